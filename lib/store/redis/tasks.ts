/**
 * Task operations on Redis. Each change is one Lua script (one round trip,
 * atomic); reads are plain commands. Key layout: `scripts/includes/task.lua`.
 */

import type { Json } from "../../events.ts";
import type { NewTask, Task, TaskError } from "../../tasks.ts";
import { TASK_STATES } from "../../tasks.ts";
import type {
  ClaimOptions,
  EnqueueResult,
  FinishResult,
  QueueCounts,
  RetentionPolicy,
  TaskFilter,
  TaskTransition,
} from "../types.ts";
import { createdFields, decodeTask, encodeNewTask, orderJson, REPLY_FIELDS } from "./codec.ts";
import { guarded, type RedisContext, runScript, runTaskScript } from "./context.ts";
import {
  asList,
  asOptionalTask,
  asTask,
  parseClaim,
  parseComplete,
  parseFinish,
  parseTransitions,
  storeError,
} from "./replies.ts";
import type { Settled } from "./batcher.ts";

/** Tasks moved per sweep script call, so one call never blocks Redis for long. */
const SWEEP_BATCH = 500;
/** Entries of the task index a listTasks page looks at. */
const LIST_SCAN = 2000;

/**
 * Creates tasks in one atomic step; results in input order.
 *
 * @example
 * ```ts
 * const [{ task, deduplicated }] = await enqueueMany(ctx, [newTask], Date.now());
 * ```
 */
export async function enqueueMany(
  ctx: RedisContext,
  tasks: NewTask[],
  now: number,
): Promise<EnqueueResult[]> {
  if (tasks.length === 0) return [];
  const encoded = tasks.map(encodeNewTask);
  const args = [String(now), String(tasks.length), ...encoded.flatMap((e) => e.args)];
  const reply = await runTaskScript(ctx, "enqueue", args, { op: "enqueue" });
  return asList(reply, "enqueue").map((entry, i) => {
    const [deduplicated, ...rest] = asList(entry, "enqueue");
    if (Number(deduplicated) === 1) return { task: asTask(rest[0], "enqueue"), deduplicated: true };
    const [state, error, dependsOn] = rest;
    const fields = createdFields(
      encoded[i],
      tasks[i],
      now,
      String(state),
      typeof error === "string" ? error : "",
      typeof dependsOn === "string" ? dependsOn : null,
    );
    const task = decodeTask(fields);
    if (task === null) throw new Error(`redis store: enqueue reply is incomplete: ${entry}`);
    return { task, deduplicated: false };
  });
}

/**
 * One task, or null.
 *
 * @example
 * ```ts
 * const task = await getTask(ctx, id);
 * ```
 */
export async function getTask(ctx: RedisContext, id: string): Promise<Task | null> {
  const values = await guarded(
    { op: "getTask" },
    () => ctx.redis.hmget(ctx.keys.task(id), ...REPLY_FIELDS),
  );
  return asOptionalTask(values, "getTask");
}

/**
 * Tasks matching a filter, newest first (createdAt desc, then id desc).
 *
 * @example
 * ```ts
 * const failed = await listTasks(ctx, { state: "failed", limit: 20 });
 * ```
 */
export async function listTasks(ctx: RedisContext, filter: TaskFilter): Promise<Task[]> {
  const limit = filter.limit ?? 100;
  const out: Task[] = [];
  let cursor = "";
  while (out.length < limit) {
    const reply = await runTaskScript(ctx, "list", [
      cursor,
      filter.state ?? "",
      filter.queue ?? "",
      filter.type ?? "",
      String(limit - out.length),
      String(LIST_SCAN),
    ], { op: "listTasks" });
    const [next, found] = asList(reply, "listTasks");
    for (const fields of asList(found, "listTasks")) {
      out.push(asTask(fields, "listTasks"));
    }
    if (typeof next !== "string" || next === "") break;
    cursor = next;
  }
  return out;
}

/**
 * Runs a batch of claims in one script call, in order, exactly as separate
 * claims would run. Claims on no queue get null without a trip to Redis.
 *
 * @example
 * ```ts
 * const [first] = await claimMany(ctx, [{ workerId: "w1", queues: null, leaseMs: 30_000, now: Date.now() }]);
 * ```
 */
export async function claimMany(
  ctx: RedisContext,
  requests: ClaimOptions[],
): Promise<Settled<Task | null>[]> {
  const args: string[] = [];
  const sent: number[] = [];
  requests.forEach((request, i) => {
    if (request.queues !== null && request.queues.length === 0) return;
    sent.push(i);
    args.push(
      request.workerId,
      String(request.now + request.leaseMs),
      String(request.now),
      request.available ? JSON.stringify(request.available) : "",
      String(request.queues === null ? -1 : request.queues.length),
      ...(request.queues ?? []),
    );
  });
  const results: Settled<Task | null>[] = requests.map(() => ({ ok: true, value: null }));
  if (sent.length === 0) return results;
  const replies = asList(await runTaskScript(ctx, "claim", args, { op: "claim" }), "claim");
  sent.forEach((index, j) => {
    const request = requests[index];
    const claim = {
      workerId: request.workerId,
      leaseUntil: request.now + request.leaseMs,
      now: request.now,
    };
    results[index] = { ok: true, value: parseClaim(replies[j] ?? null, claim) };
  });
  return results;
}

/** One complete call as the batch sends it. */
export interface CompleteCall {
  id: string;
  fence: number;
  result: Json;
  now: number;
}

/**
 * Runs a batch of completes in one script call; each gets its own result or
 * its own LeaseLostError.
 *
 * @example
 * ```ts
 * const [done] = await completeMany(ctx, [{ id, fence, result: { ok: true }, now: Date.now() }]);
 * ```
 */
export async function completeMany(
  ctx: RedisContext,
  calls: CompleteCall[],
): Promise<Settled<FinishResult>[]> {
  // A handler that returns nothing gives undefined at run time: stored as null.
  const resultJsons = calls.map((c) =>
    c.result === null || c.result === undefined ? "" : JSON.stringify(c.result)
  );
  const args = calls.flatMap((c, i) => [c.id, String(c.fence), resultJsons[i], String(c.now)]);
  const replies = asList(
    await runTaskScript(ctx, "complete", args, { op: "complete" }),
    "complete",
  );
  return calls.map((c, i): Settled<FinishResult> => {
    const reply = replies[i];
    if (reply instanceof Error) {
      return {
        ok: false,
        error: storeError(reply, { op: "complete", taskId: c.id, fence: c.fence }),
      };
    }
    return {
      ok: true,
      value: parseComplete(reply, { fence: c.fence, resultJson: resultJsons[i], now: c.now }),
    };
  });
}

/**
 * Extends a lease; false when the fence no longer holds.
 *
 * @example
 * ```ts
 * const held = await renew(ctx, task.id, task.fence, 30_000, Date.now());
 * ```
 */
export async function renew(
  ctx: RedisContext,
  id: string,
  fence: number,
  leaseMs: number,
  now: number,
): Promise<boolean> {
  const reply = await runScript(
    ctx,
    "renew",
    [ctx.keys.task(id)],
    [ctx.keys.prefix, id, String(fence), String(now + leaseMs)],
    { op: "renew", taskId: id, fence },
  );
  return Number(reply) === 1;
}

/**
 * Records progress (clamped to 0..1); LeaseLostError when the fence no longer holds.
 *
 * @example
 * ```ts
 * await progress(ctx, task.id, task.fence, 0.5, "half way");
 * ```
 */
export async function progress(
  ctx: RedisContext,
  id: string,
  fence: number,
  fraction: number,
  message: string | null,
): Promise<void> {
  const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  await runScript(
    ctx,
    "progress",
    [ctx.keys.task(id)],
    [String(fence), String(clamped), JSON.stringify(message)],
    { op: "progress", taskId: id, fence },
  );
}

/**
 * Records a failed attempt (retrying with `retryAt`, else failed/dead).
 *
 * @example
 * ```ts
 * await fail(ctx, id, fence, { message: "boom", attempt: 1 }, Date.now() + 1000, Date.now());
 * ```
 */
export async function fail(
  ctx: RedisContext,
  id: string,
  fence: number,
  error: TaskError,
  retryAt: number | null,
  now: number,
): Promise<FinishResult> {
  const reply = await runTaskScript(ctx, "fail", [
    id,
    String(fence),
    JSON.stringify(error),
    retryAt === null ? "" : String(retryAt),
    error.permanent ? "failed" : "dead",
    String(now),
  ], { op: "fail", taskId: id, fence });
  return parseFinish(reply, "fail");
}

/**
 * Cancels a live task; dependents fail.
 *
 * @example
 * ```ts
 * const { task } = await cancel(ctx, id, Date.now());
 * ```
 */
export async function cancel(ctx: RedisContext, id: string, now: number): Promise<FinishResult> {
  const reply = await runTaskScript(ctx, "cancel", [id, String(now)], { op: "cancel", taskId: id });
  return parseFinish(reply, "cancel");
}

/**
 * Puts a failed, dead, cancelled or expired task back in the queue.
 *
 * @example
 * ```ts
 * const task = await retry(ctx, id, Date.now());
 * ```
 */
export async function retry(ctx: RedisContext, id: string, now: number): Promise<Task> {
  const reply = await runTaskScript(ctx, "retry", [id, String(now)], { op: "retry", taskId: id });
  return asTask(reply, "retry");
}

/**
 * Changes priority, sort key and explanation of a task that has not started.
 *
 * @example
 * ```ts
 * const task = await reprioritize(ctx, id, 9, sortKey, explanation);
 * ```
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
 *
 * @example
 * ```ts
 * const promoted = await promoteDue(ctx, Date.now());
 * ```
 */
export function promoteDue(ctx: RedisContext, now: number): Promise<TaskTransition[]> {
  return sweep(ctx, "promote", [String(now), String(SWEEP_BATCH)], "promoteDue");
}

/**
 * Earliest runAt among scheduled/retrying tasks, or null.
 *
 * @example
 * ```ts
 * const due = await nextDueAt(ctx);
 * ```
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
 *
 * @example
 * ```ts
 * const stalled = await recoverStalled(ctx, Date.now());
 * ```
 */
export function recoverStalled(
  ctx: RedisContext,
  now: number,
  all: boolean,
): Promise<TaskTransition[]> {
  // A recovered task keeps its transitions in `out`; with `all` every batch
  // starts from the first running task, which the previous batch moved away.
  return sweep(
    ctx,
    "recover",
    [String(now), all ? "1" : "0", String(SWEEP_BATCH)],
    "recoverStalled",
  );
}

/**
 * Not-started tasks whose expiresAt passed become expired.
 *
 * @example
 * ```ts
 * const expired = await expireDue(ctx, Date.now());
 * ```
 */
export function expireDue(ctx: RedisContext, now: number): Promise<TaskTransition[]> {
  return sweep(ctx, "expire", [String(now), String(SWEEP_BATCH)], "expireDue");
}

/**
 * Not-started live tasks with a deadline at or before `before`, by deadline.
 *
 * @example
 * ```ts
 * const urgent = await tasksNearDeadline(ctx, Date.now() + 60_000, 100);
 * ```
 */
export async function tasksNearDeadline(
  ctx: RedisContext,
  before: number,
  limit: number,
): Promise<Task[]> {
  const ids = await guarded(
    { op: "tasksNearDeadline" },
    () => ctx.redis.zrangebyscore(ctx.keys.deadlines, "-inf", before, "LIMIT", 0, limit),
  );
  if (ids.length === 0) return [];
  const pipeline = ctx.redis.pipeline();
  for (const id of ids) pipeline.hmget(ctx.keys.task(id), ...REPLY_FIELDS);
  const replies = await guarded({ op: "tasksNearDeadline" }, () => pipeline.exec());
  const tasks: Task[] = [];
  for (const [error, values] of replies ?? []) {
    const task = error ? null : asOptionalTask(values, "tasksNearDeadline");
    if (task) tasks.push(task);
  }
  return tasks;
}

function emptyCounts(): QueueCounts {
  return Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as unknown as QueueCounts;
}

/**
 * Counts by queue and state, for every queue that has a task.
 *
 * @example
 * ```ts
 * const counts = await queueCounts(ctx); // { default: { queued: 3, ... } }
 * ```
 */
export async function queueCounts(ctx: RedisContext): Promise<Record<string, QueueCounts>> {
  const { redis, keys } = ctx;
  const queues = await guarded({ op: "queueCounts" }, () => redis.smembers(keys.queues));
  const pipeline = redis.pipeline().hgetall(keys.counts);
  for (const queue of queues) pipeline.zcard(keys.queued(queue)).zcard(keys.running(queue));
  const replies = (await guarded({ op: "queueCounts" }, () => pipeline.exec())) ?? [];
  const [countsError, counts] = replies[0] ?? [null, {}];
  if (countsError) throw countsError;
  const out: Record<string, QueueCounts> = {};
  const add = (queue: string, state: keyof QueueCounts, n: number) => {
    if (n > 0) (out[queue] ??= emptyCounts())[state] = n;
  };
  for (const [field, value] of Object.entries(counts as Record<string, string>)) {
    const bar = field.indexOf("|");
    add(field.slice(bar + 1), field.slice(0, bar) as keyof QueueCounts, Number(value));
  }
  queues.forEach((queue, i) => {
    add(queue, "queued", Number(replies[1 + 2 * i]?.[1] ?? 0));
    add(queue, "running", Number(replies[2 + 2 * i]?.[1] ?? 0));
  });
  return out;
}

/**
 * Removes old finished tasks and clears old results.
 *
 * @example
 * ```ts
 * const { tasks, results } = await trimTasks(ctx, policy, Date.now());
 * ```
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
