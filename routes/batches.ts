/**
 * Batches, under `/un/batches`: `GET /un/batches/:id`, a batch read as one
 * (tasks created with `{tasks, batch}`, or the children a handler made with
 * `ctx.enqueue`, whose batch id is the parent's id): how many of its tasks
 * are in each state, their combined progress, and whether it is done.
 */

import { Hono } from "hono";
import { z } from "zod";
import type { ControlWith } from "../lib/control.ts";
import { NotFoundError } from "../lib/errors.ts";
import type { BatchStore } from "../lib/store/types.ts";
import { TASK_STATES } from "../lib/tasks/task.ts";
import { answer, describe, problems } from "./describe.ts";
import { params } from "./validator.ts";

/** A batch as the API shows it. */
export const batchSchema = z.object({
  id: z.string(),
  parentId: z.string().optional().describe("the task whose handler made the batch"),
  total: z.number().int(),
  counts: z.partialRecord(z.enum(TASK_STATES), z.number().int())
    .describe("tasks per state (states with none left out)"),
  progress: z.number().describe("mean progress of its tasks, an ended task counting 1"),
  done: z.boolean().describe("every task of it has ended"),
  createdAt: z.number().int(),
  completedAt: z.number().int().optional().describe("when batch.completed was announced"),
});

const batchId = params(z.object({ id: z.string().describe("the batch's id") }));

/**
 * Batch routes, relative to `/un/batches`.
 */
export function batchRoutes(control: ControlWith<BatchStore>) {
  return new Hono().get(
    "/:id",
    describe("tasks", "One batch: its tasks counted by state and their combined progress", {
      200: answer("The batch", z.object({ batch: batchSchema })),
      ...problems(404),
    }),
    batchId,
    async (c) => {
      const { id } = c.req.valid("param");
      const batch = id.length <= 200 ? await control.store.getBatch(id) : null;
      if (batch === null) throw new NotFoundError("batch", id);
      return c.json({ batch });
    },
  );
}
