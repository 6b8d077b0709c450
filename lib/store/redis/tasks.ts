/**
 * Creating and reading tasks on Redis: enqueue (one script for a whole batch),
 * lookups, lists and counts. Key layout: `scripts/includes/task.lua`.
 */

import type { NewTask, Task, TaskState } from "../../tasks/task.ts";
import { TASK_STATES } from "../../tasks/task.ts";
import type { EnqueueOptions, EnqueueResult, QueueCounts, TaskFilter } from "../types.ts";
import { createdTask, type EncodedNewTask, encodeNewTask, REPLY_FIELDS } from "./codec.ts";
import { execAll, guarded, type RedisContext, runTaskScript } from "./context.ts";
import { asList, asOptionalTask, asTask, parseFinish } from "./replies.ts";
import { batchOfTasks } from "../batch-store.ts";

/** Entries of the task index a listTasks page looks at. */
const LIST_SCAN = 2000;

/**
 * Creates tasks in one atomic step; results in input order.
 */
export async function enqueueMany(
  ctx: RedisContext,
  tasks: NewTask[],
  now: number,
  options?: EnqueueOptions,
): Promise<EnqueueResult[]> {
  if (tasks.length === 0) return [];
  const encoded = tasks.map(encodeNewTask);
  const args = [
    String(now),
    String(tasks.length),
    ...encoded.flatMap((e) => e.args),
    ...boundArgs(tasks, options),
  ];
  const batch = batchOfTasks(tasks);
  if (batch !== null) {
    // The batch follows the bounds, whose count is then needed even when there are none.
    if (options?.maxSize === undefined) args.push("0");
    args.push(batch.batchId!, batch.parentId ?? "", options?.newBatch ? "1" : "0");
  }
  const reply = await runTaskScript(ctx, "enqueue", args, { op: "enqueue" });
  // The bounds made room by dropping queued tasks: each goes with the task that took its place.
  if (Array.isArray(reply) && reply[0] === "dropped") {
    const results = enqueueReply(reply[1], encoded, tasks, now);
    const byId = new Map(results.map((result) => [result.task.id, result]));
    for (const drop of asList(reply[2], "enqueue")) {
      const [by, finish] = asList(drop, "enqueue");
      const result = byId.get(String(by));
      if (result) (result.dropped ??= []).push(parseFinish(finish, "enqueue"));
    }
    return results;
  }
  return enqueueReply(reply, encoded, tasks, now);
}

/** The tasks of an enqueue reply (either path), in input order. */
function enqueueReply(
  reply: unknown,
  encoded: EncodedNewTask[],
  tasks: NewTask[],
  now: number,
): EnqueueResult[] {
  if (typeof reply === "string") return plainReply(reply, encoded, tasks, now);
  return asList(reply, "enqueue").map((entry, i) => {
    const [kind, ...rest] = asList(entry, "enqueue");
    if (Number(kind) === 1) return { task: asTask(rest[0], "enqueue"), deduplicated: true };
    // A resent enqueue whose first run was applied: the task it created, as it is now.
    if (Number(kind) === 2) return { task: asTask(rest[0], "enqueue"), deduplicated: false };
    const [state, error, dependsOn] = rest;
    if (!isState(state)) throw new Error(`redis store: enqueue reply has no state: ${entry}`);
    const task = createdTask(
      encoded[i],
      tasks[i],
      now,
      state,
      typeof error === "string" ? error : "",
      typeof dependsOn === "string" ? dependsOn : null,
    );
    return { task, deduplicated: false };
  });
}

/** The bounds of the batch's queues, as the script reads them after the tasks (queue-bound.lua). */
function boundArgs(tasks: NewTask[], options?: EnqueueOptions): string[] {
  const { maxSize, overflow } = options ?? {};
  if (maxSize === undefined) return [];
  const queues = new Set(tasks.map((task) => task.queue).filter((q) => Object.hasOwn(maxSize, q)));
  const policy = (q: string) => overflow && Object.hasOwn(overflow, q) ? overflow[q] : "";
  return [String(queues.size), ...[...queues].flatMap((q) => [q, String(maxSize[q]), policy(q)])];
}

/** The script's fast-path reply: a letter per task, `q` queued or `s` scheduled. */
function plainReply(
  reply: string,
  encoded: EncodedNewTask[],
  tasks: NewTask[],
  now: number,
): EnqueueResult[] {
  if (reply.length !== tasks.length) {
    throw new Error(
      `redis store: enqueue replied ${reply.length} states for ${tasks.length} tasks`,
    );
  }
  return tasks.map((task, i) => ({
    task: createdTask(encoded[i], task, now, reply[i] === "s" ? "scheduled" : "queued", "", null),
    deduplicated: false,
  }));
}

function isState(value: unknown): value is TaskState {
  return (TASK_STATES as readonly unknown[]).includes(value);
}

/**
 * One task, or null.
 */
export async function getTask(ctx: RedisContext, id: string): Promise<Task | null> {
  const values = await guarded(
    { op: "getTask" },
    () => ctx.redis.hmget(ctx.keys.task(id), ...REPLY_FIELDS),
  );
  return asOptionalTask(values, "getTask");
}

/** A member of the `all` index, or its prefix for a creation time: createdAt as 16 digits, then the id. */
function allMember(createdAt: number, id = ""): string {
  return String(Math.max(0, Math.floor(createdAt))).padStart(16, "0") + id;
}

/**
 * The lex range of the `all` index a filter covers: from the newest end (or
 * just below `after`, or `createdBefore`, whichever is lower) down to
 * `createdAfter`.
 */
function listRange(filter: TaskFilter): { from: string; to: string } {
  const uppers: string[] = [];
  if (filter.after) uppers.push(allMember(filter.after.createdAt, filter.after.id));
  if (filter.createdBefore !== undefined) uppers.push(allMember(filter.createdBefore));
  uppers.sort();
  return {
    from: uppers.length ? `(${uppers[0]}` : "+",
    to: filter.createdAfter !== undefined ? `[${allMember(filter.createdAfter)}` : "-",
  };
}

/**
 * Tasks matching a filter, newest first (createdAt desc, then id desc), from
 * `filter.after` on.
 */
export async function listTasks(ctx: RedisContext, filter: TaskFilter): Promise<Task[]> {
  const limit = Math.max(0, Math.floor(filter.limit ?? 100));
  const out: Task[] = [];
  let { from } = listRange(filter);
  const { to } = listRange(filter);
  if (
    filter.createdAfter !== undefined && filter.createdBefore !== undefined &&
    filter.createdAfter >= filter.createdBefore
  ) return out;
  while (out.length < limit) {
    const reply = await runTaskScript(ctx, "list", [
      from,
      to,
      filter.state ?? "",
      filter.queue ?? "",
      filter.type ?? "",
      filter.key ?? "",
      filter.correlationId ?? "",
      filter.subject ?? "",
      String(limit - out.length),
      String(LIST_SCAN),
    ], { op: "listTasks" });
    const [next, found] = asList(reply, "listTasks");
    for (const fields of asList(found, "listTasks")) {
      out.push(asTask(fields, "listTasks"));
    }
    if (typeof next !== "string" || next === "") break;
    from = `(${next}`;
  }
  return out;
}

/**
 * Not-started live tasks with a deadline at or before `before`, by deadline.
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
  const replies = await execAll({ op: "tasksNearDeadline" }, pipeline);
  const tasks: Task[] = [];
  for (const values of replies) {
    const task = asOptionalTask(values, "tasksNearDeadline");
    if (task) tasks.push(task);
  }
  return tasks;
}

function emptyCounts(): QueueCounts {
  return Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as unknown as QueueCounts;
}

/**
 * Counts by queue and state, for every queue that has a task.
 */
export async function queueCounts(ctx: RedisContext): Promise<Record<string, QueueCounts>> {
  const { redis, keys } = ctx;
  const queues = await guarded({ op: "queueCounts" }, () => redis.smembers(keys.queues));
  const pipeline = redis.pipeline().hgetall(keys.counts);
  for (const queue of queues) pipeline.zcard(keys.queued(queue)).zcard(keys.running(queue));
  const replies = await execAll({ op: "queueCounts" }, pipeline);
  const counts = replies[0] ?? {};
  const out: Record<string, QueueCounts> = {};
  const add = (queue: string, state: keyof QueueCounts, n: number) => {
    if (n > 0) (out[queue] ??= emptyCounts())[state] = n;
  };
  for (const [field, value] of Object.entries(counts as Record<string, string>)) {
    const bar = field.indexOf("|");
    add(field.slice(bar + 1), field.slice(0, bar) as keyof QueueCounts, Number(value));
  }
  queues.forEach((queue, i) => {
    add(queue, "queued", Number(replies[1 + 2 * i] ?? 0));
    add(queue, "running", Number(replies[2 + 2 * i] ?? 0));
  });
  return out;
}

/** Ready entries a queue's oldest-task read looks at, at most. */
const OLDEST_SCAN = 1000;

/**
 * When the oldest queued task of each named queue was enqueued (its aging
 * clock), for `un_queue_oldest_age_seconds`. A task's sortKey is its
 * enqueuedAt less bonuses that are never negative, so the oldest task is
 * among the ready entries scored up to the head's enqueuedAt: those are read
 * (at most {@link OLDEST_SCAN} per queue; past that the age is a lower bound).
 */
export async function oldestQueuedAt(
  ctx: RedisContext,
  queues: string[],
): Promise<Record<string, number>> {
  const { redis, keys } = ctx;
  const context = { op: "oldestQueuedAt" };
  // A task gone between two reads has no `ea`: NaN, never the oldest.
  const read = async (ids: string[]): Promise<number[]> => {
    if (ids.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hget(keys.task(id), "ea");
    return (await execAll(context, pipeline)).map((v) => v === null ? NaN : Number(v));
  };
  if (queues.length === 0) return {};
  const heads = redis.pipeline();
  for (const queue of queues) heads.zrange(keys.queued(queue), 0, 0);
  const headIds = (await execAll(context, heads)).map((r) => (r as string[])[0] ?? null);
  const headAt = await read(headIds.filter((id): id is string => id !== null));
  const bounds = new Map<string, number>();
  let next = 0;
  headIds.forEach((id, i) => {
    const at = id === null ? NaN : headAt[next++];
    if (Number.isFinite(at)) bounds.set(queues[i], at);
  });
  const ranges = redis.pipeline();
  for (const [queue, bound] of bounds) {
    ranges.zrangebyscore(keys.queued(queue), "-inf", bound, "LIMIT", 0, OLDEST_SCAN);
  }
  const found = bounds.size ? (await execAll(context, ranges)) as string[][] : [];
  // Every queue's entries in one round trip.
  const times = await read(found.flat());
  const out: Record<string, number> = {};
  let at = 0;
  [...bounds].forEach(([queue, bound], i) => {
    let oldest = bound;
    for (const t of times.slice(at, at += found[i].length)) {
      if (t < oldest) oldest = t;
    }
    out[queue] = oldest;
  });
  return out;
}
