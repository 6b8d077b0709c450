/**
 * Batches on Redis: `bh:<id>` (when it began, its parent, when its
 * completion was announced) and `bm:<id>` (its task ids), written by the
 * enqueue script with the tasks; read and settled by one script each.
 */

import type { Task, TaskState } from "../../tasks/task.ts";
import { type BatchView, tallyBatch } from "../batch-store.ts";
import { REPLY_FIELDS } from "./codec.ts";
import { execAll, guarded, type RedisContext, runScript } from "./context.ts";
import { asOptionalTask } from "./replies.ts";

/** A batch from the reply of `batch-read-2.lua` / `batch-settle-2.lua`; null for nil. */
function viewOf(id: string, reply: unknown): BatchView | null {
  if (!Array.isArray(reply)) return null;
  const [createdAt, parentId, completedAt, ...rest] = reply.map(String);
  const tasks: Array<{ state: TaskState; progress: number }> = [];
  for (let i = 0; i + 1 < rest.length; i += 2) {
    tasks.push({ state: rest[i] as TaskState, progress: Number(rest[i + 1]) });
  }
  const view: BatchView = { id, ...tallyBatch(tasks), createdAt: Number(createdAt) };
  if (parentId !== "") view.parentId = parentId;
  if (completedAt !== "") view.completedAt = Number(completedAt);
  return view;
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

/** Marks the batch completed when every task of it ended; the view when this call marked it. */
export async function settleBatch(
  ctx: RedisContext,
  id: string,
  now: number,
): Promise<BatchView | null> {
  const reply = await runScript(ctx, "batchSettle", keysOf(ctx, id), [
    ctx.keys.prefix,
    String(now),
    id,
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
