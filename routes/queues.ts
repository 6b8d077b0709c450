/**
 * Queues, under `/un/queues`: `GET /un/queues`, task counts by queue and state.
 */

import { Hono } from "hono";
import { z } from "zod";
import type { ControlWith } from "../lib/control.ts";
import type { TaskStore } from "../lib/store/types.ts";
import { answer, describe } from "./describe.ts";
import { queueCountsSchema } from "./schemas.ts";

/**
 * Queue routes, relative to `/un/queues`.
 */
export function queueRoutes(control: ControlWith<TaskStore>) {
  return new Hono().get(
    "/",
    describe("queues", "Task counts by queue and state", {
      200: answer(
        "Counts per queue name",
        z.object({ queues: z.record(z.string(), queueCountsSchema) }),
      ),
    }),
    async (c) => c.json({ queues: await control.store.queueCounts() }),
  );
}
