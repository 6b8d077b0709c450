/**
 * Batches on Redis: `bh:<id>` (when it began, its parent, when its
 * completion was announced, how many of its tasks are live) and `bm:<id>`
 * (its task ids), written by the enqueue script with the tasks; read,
 * settled and polled by one script each. The live count is kept by the
 * scripts that end or retry a task (batchLive in scripts/includes/task.lua).
 */

import type { Task, TaskState } from "../../tasks/task.ts";
import {
  BATCH_COUNT_LIMIT,
  type BatchListQuery,
  type BatchPage,
  type BatchPulse,
  type BatchView,
  listedBatch,
  type SettleOptions,
} from "../batch-store.ts";
import { REPLY_FIELDS } from "./codec.ts";
import { execAll, guarded, type RedisContext, runScript } from "./context.ts";
import { asOptionalTask } from "./replies.ts";

/** A batch from the reply of `batch-read-2.lua` / `batch-settle-2.lua`; null for nil. */
function viewOf(id: string, reply: unknown): BatchView | null {
  if (!Array.isArray(reply)) return null;
  const [createdAt, parentId, completedAt, partial, ...rest] = reply.map(String);
  const tasks: Array<{ state: TaskState; progress: number }> = [];
  for (let i = 0; i + 1 < rest.length; i += 2) {
    tasks.push({ state: rest[i] as TaskState, progress: Number(rest[i + 1]) });
  }
  const head = {
    id,
    createdAt: Number(createdAt),
    parentId: parentId === "" ? undefined : parentId,
    completedAt: completedAt === "" ? undefined : Number(completedAt),
  };
  return listedBatch(head, tasks, partial === "1");
}

function keysOf(ctx: RedisContext, id: string): string[] {
  return [ctx.keys.batch(id), ctx.keys.batchMembers(id)];
}

/** The batch, counted now; null when unknown. */
export async function getBatch(ctx: RedisContext, id: string): Promise<BatchView | null> {
  const reply = await runScript(ctx, "batchRead", keysOf(ctx, id), [ctx.keys.prefix], {
    op: "getBatch",
  });
  return viewOf(id, reply);
}

/** How far the batch is, from its head and member count alone; null when unknown. */
export async function batchPulse(ctx: RedisContext, id: string): Promise<BatchPulse | null> {
  const reply = await runScript(ctx, "batchPulse", keysOf(ctx, id), [], { op: "batchPulse" });
  if (!Array.isArray(reply)) return null;
  const [completedAt, live, joined] = reply.map(String);
  return {
    joined: Number(joined),
    live: live === "" ? null : Math.max(0, Number(live)),
    completed: completedAt !== "",
  };
}

/** Marks the batch completed when every task of it ended; the view when this call marked it. */
export async function settleBatch(
  ctx: RedisContext,
  id: string,
  now: number,
  options: SettleOptions = {},
): Promise<BatchView | null> {
  const reply = await runScript(ctx, "batchSettle", keysOf(ctx, id), [
    ctx.keys.prefix,
    String(now),
    id,
    options.recount ? "1" : "",
  ], { op: "settleBatch" });
  return viewOf(id, reply);
}

/** Ids of batches not announced yet, oldest first. */
export function openBatches(ctx: RedisContext, limit: number): Promise<string[]> {
  return guarded(
    { op: "openBatches" },
    () => ctx.redis.zrange(ctx.keys.batchesOpen, 0, Math.max(0, limit - 1)),
  );
}

/**
 * A page of batches newest first: the ids from one index (`batch-page-1.lua`),
 * then each batch read as getBatch reads it, over at most `countLimit` of its
 * tasks (each read atomic on its own; a batch removed between is left out).
 */
export async function listBatches(ctx: RedisContext, query: BatchListQuery): Promise<BatchPage> {
  const { keys } = ctx;
  const index = query.state === "open"
    ? keys.batchesOpen
    : query.state === "completed"
    ? keys.batchesDone
    : keys.batchesAll;
  const after = query.after === undefined ? ["", ""] : [String(query.after.at), query.after.id];
  const reply = await runScript(ctx, "batchPage", [index], [String(query.limit), ...after], {
    op: "listBatches",
  });
  const found = (Array.isArray(reply) ? reply : []).map(String);
  const page: Array<{ id: string; at: number }> = [];
  for (let i = 0; i + 1 < found.length; i += 2) {
    page.push({ id: found[i], at: Number(found[i + 1]) });
  }
  const countLimit = String(query.countLimit ?? BATCH_COUNT_LIMIT);
  const views = await Promise.all(
    page.slice(0, query.limit).map(async ({ id }) => {
      const read = await runScript(ctx, "batchRead", keysOf(ctx, id), [keys.prefix, countLimit], {
        op: "listBatches",
      });
      return viewOf(id, read);
    }),
  );
  const batches = views.filter((view) => view !== null);
  if (page.length <= query.limit) return { batches };
  const last = page[query.limit - 1];
  return { batches, next: { at: last.at, id: last.id } };
}

/** The batch's tasks still stored, oldest first (ids are ULIDs: their order is creation order). */
export async function batchTasks(ctx: RedisContext, id: string, limit: number): Promise<Task[]> {
  const ids = await guarded(
    { op: "batchTasks" },
    () => ctx.redis.smembers(ctx.keys.batchMembers(id)),
  );
  ids.sort();
  const pipeline = ctx.redis.pipeline();
  for (const taskId of ids.slice(0, limit)) {
    pipeline.hmget(ctx.keys.task(taskId), ...REPLY_FIELDS);
  }
  const replies = await execAll({ op: "batchTasks" }, pipeline);
  return replies.map((values) => asOptionalTask(values, "batchTasks")).filter((task) =>
    task !== null
  );
}
