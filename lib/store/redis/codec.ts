/**
 * How a task is laid out in its Redis hash, both ways. What never changes after
 * enqueue travels as one JSON blob `d` written by the client; what the scripts
 * change or read is a separate short field ("" or absent = null, an absent
 * counter = 0), so a claim or complete is one HSET and its reply is one HMGET.
 * The field list is documented in `scripts/includes/task.lua`, whose
 * `taskFields` reads {@link REPLY_FIELDS}.
 */

import type { Json } from "../../events/cloud-event.ts";
import type { NewTask, ScoreExplanation, Task, TaskError, TaskState } from "../../tasks/task.ts";

/**
 * The part of a task no script changes, as stored in `d`: the optional
 * fields only when set (absent = null, resources absent = none), which keeps
 * the blob that every enqueue sends and every claim reads back about a third
 * smaller.
 */
type StaticPart =
  & Pick<Task, "id" | "type" | "queue" | "payload" | "score" | "maxAttempts" | "createdAt">
  & Partial<
    Pick<
      Task,
      | "deadline"
      | "expiresAt"
      | "timeoutMs"
      | "key"
      | "resources"
      | "correlationId"
      | "rateGroup"
      | "parentId"
      | "batchId"
    >
  >;

/**
 * The hash fields a task is read from, in this order (the same list as
 * `taskFields` in `scripts/includes/task.lua`).
 */
export const REPLY_FIELDS = [
  "d",
  "m",
  "st",
  "a",
  "f",
  "p",
  "pm",
  "r",
  "e",
  "ra",
  "ea",
  "sa",
  "fa",
  "w",
  "lu",
  "dp",
] as const;

/**
 * A hash field the client reads.
 */
export type FieldName = typeof REPLY_FIELDS[number];

/**
 * Stored values of a task by field (null or missing = field absent).
 */
export type StoredFields = Partial<Record<FieldName, string | null>>;

/** The `m` field: what reprioritize changes. */
interface OrderPart {
  priority: number;
  sortKey: number;
  explanation: ScoreExplanation;
}

/**
 * The `m` field's JSON.
 */
export function orderJson(
  priority: number,
  sortKey: number,
  explanation: ScoreExplanation,
): string {
  const order: OrderPart = { priority, sortKey, explanation };
  return JSON.stringify(order);
}

/**
 * Names the values of a reply: `names[i]` is the field of `values[i]`.
 */
export function nameFields(
  names: readonly FieldName[],
  values: readonly unknown[],
): StoredFields {
  const fields: StoredFields = {};
  names.forEach((name, i) => {
    const value = values[i];
    fields[name] = typeof value === "number"
      ? String(value)
      : typeof value === "string"
      ? value
      : null;
  });
  return fields;
}

/** Formats a nullable number for a script argument ("" = null). */
function nullableArg(value: number | null): string {
  return value === null ? "" : String(value);
}

/**
 * A new task as the enqueue script gets it, and what the client keeps of it.
 */
export interface EncodedNewTask {
  /** The arguments `enqueue-10.lua` reads for this task (see the script header). */
  args: string[];
  /** Its `d` and `m` fields, to rebuild the created task without reading it back. */
  d: string;
  m: string;
}

/**
 * Encodes a new task for the enqueue script.
 */
export function encodeNewTask(task: NewTask): EncodedNewTask {
  const hasResources = Object.keys(task.resources).length > 0;
  const staticPart: StaticPart = {
    id: task.id,
    type: task.type,
    queue: task.queue,
    payload: task.payload,
    score: task.score,
    maxAttempts: task.maxAttempts,
    createdAt: task.createdAt,
  };
  if (task.deadline !== null) staticPart.deadline = task.deadline;
  if (task.expiresAt !== null) staticPart.expiresAt = task.expiresAt;
  if (task.timeoutMs !== null) staticPart.timeoutMs = task.timeoutMs;
  if (task.key !== null) staticPart.key = task.key;
  if (hasResources) staticPart.resources = task.resources;
  if (task.correlationId !== null) staticPart.correlationId = task.correlationId;
  // Read by the claim script (from `d`) only in a queue limited by group key.
  if (task.rateGroup !== undefined) staticPart.rateGroup = task.rateGroup;
  if (task.parentId !== undefined) staticPart.parentId = task.parentId;
  if (task.batchId !== undefined) staticPart.batchId = task.batchId;
  const d = JSON.stringify(staticPart);
  const m = orderJson(task.priority, task.sortKey, task.explanation);
  const args = [
    task.id,
    task.key === null ? "" : `=${task.key}`,
    task.queue,
    task.type,
    String(task.sortKey),
    m,
    nullableArg(task.runAt),
    nullableArg(task.expiresAt),
    nullableArg(task.deadline),
    String(task.maxAttempts),
    hasResources ? JSON.stringify(task.resources) : "",
    String(Math.max(0, Math.trunc(task.createdAt))),
    d,
    String(task.dependsOn.length),
    ...task.dependsOn,
  ];
  return { args, d, m };
}

/**
 * The task the enqueue script just created, from what the client sent and
 * the little the script decided (state, error, resolved dependencies),
 * without reading it back. Its payload is read from the JSON sent, so the
 * task holds a copy as stored (as every read of it will), not the caller's object.
 */
export function createdTask(
  encoded: EncodedNewTask,
  task: NewTask,
  now: number,
  state: TaskState,
  error: string,
  dependsOn: string | null,
): Task {
  const stored = JSON.parse(encoded.d) as StaticPart;
  const created: Task = {
    id: task.id,
    type: task.type,
    queue: task.queue,
    payload: stored.payload,
    priority: task.priority,
    sortKey: task.sortKey,
    score: task.score,
    explanation: task.explanation,
    state,
    attempts: 0,
    maxAttempts: task.maxAttempts,
    progress: 0,
    progressMessage: null,
    result: null,
    error: optionalJson<TaskError>(error),
    dependsOn: optionalJson<string[]>(dependsOn) ?? [],
    runAt: task.runAt,
    deadline: task.deadline,
    expiresAt: task.expiresAt,
    timeoutMs: task.timeoutMs,
    key: task.key,
    resources: stored.resources ?? {},
    createdAt: task.createdAt,
    enqueuedAt: now,
    startedAt: null,
    finishedAt: error === "" ? null : now,
    workerId: null,
    fence: 0,
    leaseUntil: null,
    correlationId: task.correlationId,
  };
  if (stored.rateGroup !== undefined) created.rateGroup = stored.rateGroup;
  if (stored.parentId !== undefined) created.parentId = stored.parentId;
  if (stored.batchId !== undefined) created.batchId = stored.batchId;
  return created;
}

function optionalNumber(value: string | null | undefined): number | null {
  return value === null || value === undefined || value === "" ? null : Number(value);
}

function optionalJson<T>(value: string | null | undefined): T | null {
  return value === null || value === undefined || value === "" ? null : JSON.parse(value) as T;
}

function optionalString(value: string | null | undefined): string | null {
  return value === null || value === undefined || value === "" ? null : value;
}

/**
 * Rebuilds a task from its stored fields; null when the task does not exist.
 */
export function decodeTask(fields: StoredFields): Task | null {
  const { d, m, st } = fields;
  if (!d || !m || !st) return null;
  const fixed = JSON.parse(d) as StaticPart;
  const order = JSON.parse(m) as OrderPart;
  const task: Task = {
    id: fixed.id,
    type: fixed.type,
    queue: fixed.queue,
    payload: fixed.payload,
    priority: order.priority,
    sortKey: order.sortKey,
    score: fixed.score,
    explanation: order.explanation,
    state: st as TaskState,
    attempts: Number(fields.a),
    maxAttempts: fixed.maxAttempts,
    progress: Number(fields.p),
    progressMessage: optionalJson<string>(fields.pm),
    result: optionalJson<Json>(fields.r),
    error: optionalJson<TaskError>(fields.e),
    dependsOn: optionalJson<string[]>(fields.dp) ?? [],
    runAt: optionalNumber(fields.ra),
    deadline: fixed.deadline ?? null,
    expiresAt: fixed.expiresAt ?? null,
    timeoutMs: fixed.timeoutMs ?? null,
    key: fixed.key ?? null,
    resources: fixed.resources ?? {},
    createdAt: fixed.createdAt,
    enqueuedAt: Number(fields.ea),
    startedAt: optionalNumber(fields.sa),
    finishedAt: optionalNumber(fields.fa),
    workerId: optionalString(fields.w),
    fence: Number(fields.f),
    leaseUntil: optionalNumber(fields.lu),
    correlationId: fixed.correlationId ?? null,
  };
  if (fixed.rateGroup !== undefined) task.rateGroup = fixed.rateGroup;
  if (fixed.parentId !== undefined) task.parentId = fixed.parentId;
  if (fixed.batchId !== undefined) task.batchId = fixed.batchId;
  return task;
}
