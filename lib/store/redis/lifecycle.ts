/**
 * Changes made to tasks from outside a worker, on Redis: cancel, retry and
 * reprioritize (from the API), and the sweeps the scheduler runs over time
 * (promote due tasks, recover stalled leases, expire, trim).
 */

import type { Task } from "../../tasks/task.ts";
import type { FinishResult, RetentionPolicy, TaskTransition } from "../types.ts";
import { orderJson } from "./codec.ts";
import { guarded, type RedisContext, runTaskScript } from "./context.ts";
import { asList, asTask, parseFinish, parseTransitions } from "./replies.ts";

/** Tasks moved per sweep script call, so one call never blocks Redis for long. */
const SWEEP_BATCH = 500;

/**
 * Cancels a live task; dependents fail.
 */
export async function cancel(ctx: RedisContext, id: string, now: number): Promise<FinishResult> {
  const reply = await runTaskScript(ctx, "cancel", [id, String(now)], { op: "cancel", taskId: id });
  return parseFinish(reply, "cancel");
}

/**
 * Puts a failed, dead, cancelled or expired task back in the queue.
 */
export async function retry(ctx: RedisContext, id: string, now: number): Promise<Task> {
  const reply = await runTaskScript(ctx, "retry", [id, String(now)], { op: "retry", taskId: id });
  return asTask(reply, "retry");
}

/**
 * Changes priority, sort key and explanation of a task that has not started.
 */
export async function reprioritize(
  ctx: RedisContext,
  id: string,
  priority: number,
  sortKey: number,
  explanation: Task["explanation"],
): Promise<Task> {
  const reply = await runTaskScript(
    ctx,
    "reprioritize",
    [id, String(sortKey), orderJson(priority, sortKey, explanation)],
    { op: "reprioritize", taskId: id },
  );
  return asTask(reply, "reprioritize");
}

/** Runs a sweep script in batches until one comes back short. */
async function sweep(
  ctx: RedisContext,
  name: "promote" | "recover" | "expire",
  args: string[],
  op: string,
): Promise<TaskTransition[]> {
  const out: TaskTransition[] = [];
  for (;;) {
    const batch = parseTransitions(await runTaskScript(ctx, name, args, { op }), op);
    out.push(...batch);
    if (batch.length < SWEEP_BATCH) return out;
  }
}

/**
 * Scheduled/retrying tasks whose runAt has come become queued.
 */
export function promoteDue(ctx: RedisContext, now: number): Promise<TaskTransition[]> {
  return sweep(ctx, "promote", [String(now), String(SWEEP_BATCH)], "promoteDue");
}

/**
 * Earliest runAt among scheduled/retrying tasks, or null.
 */
export async function nextDueAt(ctx: RedisContext): Promise<number | null> {
  const first = await guarded(
    { op: "nextDueAt" },
    () => ctx.redis.zrange(ctx.keys.delayed, 0, 0, "WITHSCORES"),
  );
  return first.length < 2 ? null : Number(first[1]);
}

/**
 * Running tasks whose lease ran out (all running tasks with `all`) go back or die.
 */
export function recoverStalled(
  ctx: RedisContext,
  now: number,
  all: boolean,
): Promise<TaskTransition[]> {
  // Batches end: with `all` each batch takes the first running tasks, and the
  // previous batch moved its own out of the running index.
  return sweep(
    ctx,
    "recover",
    [String(now), all ? "1" : "0", String(SWEEP_BATCH)],
    "recoverStalled",
  );
}

/**
 * Not-started tasks whose expiresAt passed become expired.
 */
export function expireDue(ctx: RedisContext, now: number): Promise<TaskTransition[]> {
  return sweep(ctx, "expire", [String(now), String(SWEEP_BATCH)], "expireDue");
}

/**
 * Removes old finished tasks and clears old results.
 */
export async function trimTasks(
  ctx: RedisContext,
  policy: RetentionPolicy,
  now: number,
): Promise<{ tasks: number; results: number }> {
  let tasks = 0;
  let results = 0;
  for (;;) {
    const reply = await runTaskScript(ctx, "trim", [
      String(now - policy.finishedTaskMaxAgeMs),
      String(policy.maxFinishedTasks),
      String(now - policy.resultTtlMs),
      String(SWEEP_BATCH),
    ], { op: "trim" });
    const [removed, cleared] = asList(reply, "trim").map(Number);
    tasks += removed;
    results += cleared;
    if (removed < SWEEP_BATCH && cleared < SWEEP_BATCH) return { tasks, results };
  }
}
