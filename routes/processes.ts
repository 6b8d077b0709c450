/**
 * Processes, under `/un/processes`: `GET /un/processes`, every process sharing this store that
 * recorded itself within its last three heartbeats (on the embedded store,
 * this one), with its role, pool and when it was last heard from.
 */

import { Hono } from "hono";
import { z } from "zod";
import type { ControlWith } from "../lib/control.ts";
import type { Coordination } from "../lib/store/types.ts";
import { answer, describe } from "./describe.ts";
import { objectSchema } from "./schemas.ts";

/**
 * Process routes, relative to `/un/processes`.
 */
export function processRoutes(control: ControlWith<Coordination>) {
  return new Hono().get(
    "/",
    describe("processes", "The processes sharing this store", {
      200: answer(
        "This process's id and every live process's record",
        z.object({ self: z.string(), processes: z.array(objectSchema) }),
      ),
    }),
    async (c) => {
      const processes = await control.store.listProcesses(Date.now());
      return c.json({ self: control.processId, processes });
    },
  );
}
