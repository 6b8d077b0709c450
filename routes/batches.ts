/**
 * Batches, under `/un/batches`: `GET /un/batches`, a page of them newest
 * first, and `GET /un/batches/:id`, a batch read as one
 * (tasks created with `{tasks, batch}`, or the children a handler made with
 * `ctx.enqueue`, whose batch id is the parent's id): how many of its tasks
 * are in each state, their combined progress, and whether it is done.
 */

import { Hono } from "hono";
import { z } from "zod";
import type { ControlWith } from "../lib/control.ts";
import { NotFoundError } from "../lib/errors.ts";
import { BATCH_COUNT_LIMIT } from "../lib/store/batch-store.ts";
import type { BatchStore, BatchView } from "../lib/store/types.ts";
import { TASK_STATES } from "../lib/tasks/task.ts";
import { queryCursor, queryInt, strictObject } from "../lib/validate.ts";
import { decodeCursor, encodeCursor } from "../lib/store/cursor.ts";
import { answer, describe, problems } from "./describe.ts";
import { params, query } from "./validator.ts";

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
  partial: z.literal(true).optional().describe(
    `in a listing: it holds more than the ${BATCH_COUNT_LIMIT} tasks a listing counts, ` +
      "so total, counts and progress are over that many of them and done is whether it completed",
  ),
});

const cursor = queryCursor(decodeCursor).describe("the `nextCursor` of the page before");

const listQuery = query(strictObject({
  state: z.enum(["open", "completed"]).optional()
    .describe("open: not completed yet; completed: announced (default: both)"),
  limit: queryInt(1, 500).optional().describe("default 50"),
  cursor: cursor.optional(),
}));

const batchId = params(z.object({ id: z.string().describe("the batch's id") }));

/**
 * Batch routes, relative to `/un/batches`.
 */
export function batchRoutes(control: ControlWith<BatchStore>) {
  return new Hono().get(
    "/",
    describe("tasks", "List batches, newest first, a page at a time", {
      200: answer(
        "The batches (at most `limit`), newest first: by createdAt, or by completedAt with " +
          `state=completed; each counted over at most ${BATCH_COUNT_LIMIT} of its tasks; ` +
          "`nextCursor` when more follow",
        z.object({ batches: z.array(batchSchema), nextCursor: z.string().optional() }),
      ),
      ...problems(400),
    }),
    listQuery,
    async (c) => {
      const { state, limit = 50, cursor } = c.req.valid("query");
      const { batches, next } = await control.store.listBatches({ state, limit, after: cursor });
      const body: { batches: BatchView[]; nextCursor?: string } = { batches };
      if (next !== undefined) body.nextCursor = encodeCursor(next);
      return c.json(body);
    },
  ).get(
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
