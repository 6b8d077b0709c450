/**
 * How a task is laid out in its Redis hash, both ways. Fields the Lua scripts
 * read or change are separate hash fields (short names, absent = null); the
 * rest travels as one JSON blob `d`, so a claim returns few fields. The field
 * list is documented in `scripts/includes/task.lua`.
 */

import type { Json } from "../../events.ts";
import type { NewTask, ScoreExplanation, Task, TaskError, TaskState } from "../../tasks.ts";

/** The part of a task no script reads or changes. */
interface StaticPart {
  id: string;
  payload: Json;
  score: number;
  timeoutMs: number | null;
  correlationId: string | null;
  createdAt: number;
}

/** A flat `HGETALL` reply: field, value, field, value… */
export type FlatHash = string[];

/** Formats a nullable number for a script argument ("" = null). */
export function nullableArg(value: number | null): string {
  return value === null ? "" : String(value);
}

/**
 * The arguments `enqueue-11.lua` reads for one task (see the script header).
 *
 * @example
 * ```ts
 * const argv = ["un:", String(now), "1", ...enqueueArgs(newTask)];
 * ```
 */
export function enqueueArgs(task: NewTask): string[] {
  const staticPart: StaticPart = {
    id: task.id,
    payload: task.payload,
    score: task.score,
    timeoutMs: task.timeoutMs,
    correlationId: task.correlationId,
    createdAt: task.createdAt,
  };
  const hasResources = Object.keys(task.resources).length > 0;
  return [
    task.id,
    task.key === null ? "" : `=${task.key}`,
    task.queue,
    task.type,
    String(task.sortKey),
    String(task.priority),
    JSON.stringify(task.explanation),
    nullableArg(task.runAt),
    nullableArg(task.expiresAt),
    nullableArg(task.deadline),
    String(task.maxAttempts),
    hasResources ? JSON.stringify(task.resources) : "",
    String(Math.max(0, Math.trunc(task.createdAt))),
    JSON.stringify(staticPart),
    String(task.dependsOn.length),
    ...task.dependsOn,
  ];
}

function toRecord(flat: FlatHash): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i]] = flat[i + 1];
  return record;
}

function optionalNumber(value: string | undefined): number | null {
  return value === undefined ? null : Number(value);
}

function optionalJson<T>(value: string | undefined): T | null {
  return value === undefined ? null : JSON.parse(value) as T;
}

/**
 * Rebuilds a task from its hash (a flat `HGETALL` reply).
 *
 * @example
 * ```ts
 * const task = decodeTask(await redis.hgetall(...)); // via a script reply
 * ```
 */
export function decodeTask(flat: FlatHash): Task {
  const h = toRecord(flat);
  if (h.d === undefined || h.st === undefined) {
    throw new Error(`redis store: task hash is incomplete (fields: ${Object.keys(h).join(",")})`);
  }
  const d = JSON.parse(h.d) as StaticPart;
  return {
    id: d.id,
    type: h.ty,
    queue: h.q,
    payload: d.payload,
    priority: Number(h.pr),
    sortKey: Number(h.sk),
    score: d.score,
    explanation: JSON.parse(h.x) as ScoreExplanation,
    state: h.st as TaskState,
    attempts: Number(h.a),
    maxAttempts: Number(h.ma),
    progress: Number(h.p),
    progressMessage: h.pm ?? null,
    result: optionalJson<Json>(h.r),
    error: optionalJson<TaskError>(h.e),
    dependsOn: optionalJson<string[]>(h.dp) ?? [],
    runAt: optionalNumber(h.ra),
    deadline: optionalNumber(h.dl),
    expiresAt: optionalNumber(h.xa),
    timeoutMs: d.timeoutMs,
    key: h.k ?? null,
    resources: optionalJson<Record<string, number>>(h.rs) ?? {},
    createdAt: d.createdAt,
    enqueuedAt: Number(h.ea),
    startedAt: optionalNumber(h.sa),
    finishedAt: optionalNumber(h.fa),
    workerId: h.w ?? null,
    fence: Number(h.f),
    leaseUntil: optionalNumber(h.lu),
    correlationId: d.correlationId,
  };
}
