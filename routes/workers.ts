/**
 * Workers, under `/un/workers`: `GET /un/workers` (the pool as it is: concurrency, each worker's
 * task, and each resource's capacity and use,
 * `resources: { gpu: { capacity: 1, inUse: 1 } }`) and `POST /un/workers/scale`.
 * Both ask the pool actor; a process without a pool (`--role api`) answers 503.
 */

import { Hono } from "hono";
import { z } from "zod";
import type { ControlPlane } from "../lib/control.ts";
import { intIn, strictObject } from "../lib/validate.ts";
import { ask } from "../lib/protocol/ask.ts";
import { answer, describe, problems } from "./describe.ts";
import { objectSchema } from "./schemas.ts";
import { jsonBody } from "./validator.ts";

const scaleBody = strictObject({ concurrency: intIn(1, 256) });

const poolSchema = z.object({
  concurrency: z.number().int(),
  workers: z.array(
    z.object({ id: z.string(), state: z.string(), taskId: z.string().nullable() })
      .loose(),
  ),
  paused: z.boolean().describe("not claiming (shutting down, or the store is unreachable)"),
  resources: z.record(z.string(), objectSchema).describe("each resource's capacity and use"),
});

/**
 * Worker routes, relative to `/un/workers`.
 */
export function workerRoutes(control: Omit<ControlPlane, "store">) {
  return new Hono()
    .get(
      "/",
      describe("workers", "The worker pool: concurrency, each worker's task, resources", {
        200: answer("The pool", poolSchema),
        ...problems(503),
      }),
      async (c) => {
        const info = await ask(control, "workers.info", {});
        return c.json(info);
      },
    )
    .post(
      "/scale",
      describe("workers", "Change the pool's concurrency", {
        200: answer("The new concurrency", z.object({ concurrency: z.number().int() })),
        ...problems(400, 503),
      }),
      jsonBody(scaleBody),
      async (c) => {
        const { concurrency } = c.req.valid("json");
        const info = await ask(control, "workers.scale", { concurrency });
        return c.json({ concurrency: info.concurrency });
      },
    );
}
