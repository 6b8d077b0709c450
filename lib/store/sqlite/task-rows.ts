/**
 * Tasks as rows: the column mapping and the single-row reads and writes every
 * other task module builds on.
 */

import type { Json } from "../../events/cloud-event.ts";
import type { NewTask, ScoreExplanation, Task, TaskError, TaskState } from "../../tasks/task.ts";
import type { SQLInputValue, SQLOutputValue } from "node:sqlite";
import {
  json,
  num,
  numOrNull,
  type Params,
  type Row,
  type Sql,
  text,
  textOrNull,
} from "./statements.ts";

/**
 * Turns a `tasks` row into a {@link Task}.
 */
export function taskFromRow(row: Row): Task {
  return {
    id: text(row, "id"),
    type: text(row, "type"),
    queue: text(row, "queue"),
    payload: json<Json>(row, "payload"),
    priority: num(row, "priority"),
    sortKey: num(row, "sort_key"),
    score: num(row, "score"),
    explanation: json<ScoreExplanation>(row, "explanation") as ScoreExplanation,
    state: text(row, "state") as TaskState,
    attempts: num(row, "attempts"),
    maxAttempts: num(row, "max_attempts"),
    progress: num(row, "progress"),
    progressMessage: textOrNull(row, "progress_message"),
    result: json<Json>(row, "result"),
    error: json<TaskError>(row, "error"),
    dependsOn: json<string[]>(row, "depends_on") ?? [],
    runAt: numOrNull(row, "run_at"),
    deadline: numOrNull(row, "deadline"),
    expiresAt: numOrNull(row, "expires_at"),
    timeoutMs: numOrNull(row, "timeout_ms"),
    key: textOrNull(row, "key"),
    resources: json<Record<string, number>>(row, "resources") ?? {},
    createdAt: num(row, "created_at"),
    enqueuedAt: num(row, "enqueued_at"),
    startedAt: numOrNull(row, "started_at"),
    finishedAt: numOrNull(row, "finished_at"),
    workerId: textOrNull(row, "worker_id"),
    fence: num(row, "fence"),
    leaseUntil: numOrNull(row, "lease_until"),
    correlationId: textOrNull(row, "correlation_id"),
    ...rateGroupOf(row.rate_group),
    ...batchOf(row.parent_id, row.batch_id),
  };
}

/** `{ parentId, batchId }` as far as the task has them: absent otherwise, as on a new task. */
function batchOf(
  parent: SQLOutputValue | undefined,
  batch: SQLOutputValue | undefined,
): { parentId?: string; batchId?: string } {
  const out: { parentId?: string; batchId?: string } = {};
  if (parent !== null && parent !== undefined) out.parentId = String(parent);
  if (batch !== null && batch !== undefined) out.batchId = String(batch);
  return out;
}

/** `{ rateGroup }` when the task has one: a task without keeps the field absent. */
function rateGroupOf(value: SQLOutputValue | undefined): { rateGroup?: string } {
  return value === null || value === undefined ? {} : { rateGroup: String(value) };
}

/**
 * Every column of `tasks`, in the order {@link taskFromValues} reads them (and
 * an insert writes them).
 */
export const TASK_COLUMNS =
  `id, type, queue, payload, priority, sort_key, score, explanation, state,
  attempts, max_attempts, progress, progress_message, result, error, depends_on, run_at, deadline,
  expires_at, timeout_ms, key, resources, created_at, enqueued_at, started_at, finished_at,
  worker_id, fence, lease_until, correlation_id, rate_group, parent_id, batch_id`;

/**
 * Positions of the columns in {@link TASK_COLUMNS} that readers of arrays look
 * at; `rowid` where a read asks for it after them.
 */
export const TASK_COLUMN = {
  id: 0,
  queue: 2,
  sortKey: 5,
  expiresAt: 18,
  resources: 21,
  rateGroup: 30,
  rowid: 33,
} as const;

function textAt(values: SQLOutputValue[], i: number): string {
  const value = values[i];
  if (typeof value !== "string") throw new Error(`tasks column ${i}: expected text`);
  return value;
}
function textOrNullAt(values: SQLOutputValue[], i: number): string | null {
  const value = values[i];
  return value === null || value === undefined ? null : String(value);
}
function numAt(values: SQLOutputValue[], i: number): number {
  const value = values[i];
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  throw new Error(`tasks column ${i}: expected a number`);
}
function numOrNullAt(values: SQLOutputValue[], i: number): number | null {
  const value = values[i];
  return value === null || value === undefined ? null : Number(value);
}
function jsonAt<T>(values: SQLOutputValue[], i: number): T | null {
  const value = values[i];
  return value === null || value === undefined ? null : JSON.parse(String(value)) as T;
}

/**
 * Turns a `tasks` row read as an array of {@link TASK_COLUMNS} into a
 * {@link Task} (see `Sql.allArrays`: hot reads skip building a row object).
 */
export function taskFromValues(v: SQLOutputValue[]): Task {
  const task: Task = {
    id: textAt(v, 0),
    type: textAt(v, 1),
    queue: textAt(v, 2),
    payload: jsonAt<Json>(v, 3),
    priority: numAt(v, 4),
    sortKey: numAt(v, 5),
    score: numAt(v, 6),
    explanation: jsonAt<ScoreExplanation>(v, 7) as ScoreExplanation,
    state: textAt(v, 8) as TaskState,
    attempts: numAt(v, 9),
    maxAttempts: numAt(v, 10),
    progress: numAt(v, 11),
    progressMessage: textOrNullAt(v, 12),
    result: jsonAt<Json>(v, 13),
    error: jsonAt<TaskError>(v, 14),
    dependsOn: jsonAt<string[]>(v, 15) ?? [],
    runAt: numOrNullAt(v, 16),
    deadline: numOrNullAt(v, 17),
    expiresAt: numOrNullAt(v, 18),
    timeoutMs: numOrNullAt(v, 19),
    key: textOrNullAt(v, 20),
    resources: v[21] === "{}" ? {} : jsonAt<Record<string, number>>(v, 21) ?? {},
    createdAt: numAt(v, 22),
    enqueuedAt: numAt(v, 23),
    startedAt: numOrNullAt(v, 24),
    finishedAt: numOrNullAt(v, 25),
    workerId: textOrNullAt(v, 26),
    fence: numAt(v, 27),
    leaseUntil: numOrNullAt(v, 28),
    correlationId: textOrNullAt(v, 29),
  };
  if (v[30] !== null && v[30] !== undefined) task.rateGroup = String(v[30]);
  if (v[31] !== null && v[31] !== undefined) task.parentId = String(v[31]);
  if (v[32] !== null && v[32] !== undefined) task.batchId = String(v[32]);
  return task;
}

/**
 * JSON text for a nullable JSON column: JSON `null` is stored as SQL NULL.
 */
export function jsonText(value: Json | TaskError | null | undefined): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/**
 * Reads one task by id.
 */
export function readTask(sql: Sql, id: string): Task | null {
  const row = sql.get("SELECT * FROM tasks WHERE id = :id", { id });
  return row === undefined ? null : taskFromRow(row);
}

/**
 * Runs an UPDATE of the one task named by `params.id` and reads the task back
 * when a row changed (null when the WHERE did not match). Cheaper than
 * `RETURNING *` through `node:sqlite`, which measured ~2x slower here.
 */
export function updateTask(sql: Sql, update: string, params: Params & { id: string }): Task | null {
  return sql.run(update, params) === 1 ? readTask(sql, params.id) : null;
}

/**
 * What {@link insertTask} writes besides the caller's {@link NewTask}.
 */
export interface InitialState {
  state: TaskState;
  /** Resolved dependency ids. */
  dependsOn: string[];
  error: TaskError | null;
  finishedAt: number | null;
  now: number;
}

/** Columns of an insert, in the order of {@link rowOf}'s values. */
const COLUMNS = TASK_COLUMNS;
const COLUMN_COUNT = 33;
/** Rows per INSERT: one statement for many rows costs far less than one each. */
const ROWS_PER_INSERT = 16;

/** The INSERT of `n` rows, made once per size (its text is the statement cache's key). */
const INSERTS: string[] = [];
function insertOf(n: number): string {
  const row = `(${Array(COLUMN_COUNT).fill("?").join(", ")})`;
  return INSERTS[n] ??= `INSERT INTO tasks (${COLUMNS}) VALUES ${Array(n).fill(row).join(", ")}`;
}

/** A task about to be inserted: as a read will return it, and its row. */
interface NewRow {
  stored: Task;
  values: SQLInputValue[];
}

function rowOf(task: NewTask, initial: InitialState): NewRow {
  // Stored as text and parsed back, so the returned task is exactly what a
  // later read returns (JSON drops undefined members, turns dates to strings).
  const payload = JSON.stringify(task.payload ?? null);
  const explanation = JSON.stringify(task.explanation);
  const resources = JSON.stringify(task.resources ?? {});
  const stored: Task = {
    id: task.id,
    type: task.type,
    queue: task.queue,
    payload: JSON.parse(payload) as Json,
    priority: task.priority,
    sortKey: task.sortKey,
    score: task.score,
    explanation: JSON.parse(explanation) as ScoreExplanation,
    state: initial.state,
    attempts: 0,
    maxAttempts: task.maxAttempts,
    progress: 0,
    progressMessage: null,
    result: null,
    error: initial.error === null ? null : JSON.parse(JSON.stringify(initial.error)) as TaskError,
    dependsOn: [...initial.dependsOn],
    runAt: task.runAt ?? null,
    deadline: task.deadline ?? null,
    expiresAt: task.expiresAt ?? null,
    timeoutMs: task.timeoutMs ?? null,
    key: task.key ?? null,
    resources: JSON.parse(resources) as Record<string, number>,
    createdAt: task.createdAt,
    enqueuedAt: initial.now,
    startedAt: null,
    finishedAt: initial.finishedAt,
    workerId: null,
    fence: 0,
    leaseUntil: null,
    correlationId: task.correlationId ?? null,
  };
  if (task.rateGroup !== undefined) stored.rateGroup = task.rateGroup;
  if (task.parentId !== undefined) stored.parentId = task.parentId;
  if (task.batchId !== undefined) stored.batchId = task.batchId;
  const values: SQLInputValue[] = [
    stored.id,
    stored.type,
    stored.queue,
    payload,
    stored.priority,
    stored.sortKey,
    stored.score,
    explanation,
    stored.state,
    0,
    stored.maxAttempts,
    0,
    null,
    null,
    jsonText(stored.error),
    JSON.stringify(stored.dependsOn),
    stored.runAt,
    stored.deadline,
    stored.expiresAt,
    stored.timeoutMs,
    stored.key,
    resources,
    stored.createdAt,
    stored.enqueuedAt,
    null,
    stored.finishedAt,
    null,
    0,
    null,
    stored.correlationId,
    task.rateGroup ?? null,
    task.parentId ?? null,
    task.batchId ?? null,
  ];
  return { stored, values };
}

/**
 * Inserts new task rows (several per statement) and their dependency edges;
 * returns the stored tasks, in order. A task that depends on another of the
 * same call must come after it.
 */
export function insertTasks(
  sql: Sql,
  items: ReadonlyArray<{ task: NewTask; initial: InitialState }>,
): Task[] {
  const rows = items.map(({ task, initial }) => rowOf(task, initial));
  for (let from = 0; from < rows.length; from += ROWS_PER_INSERT) {
    const chunk = rows.slice(from, from + ROWS_PER_INSERT);
    sql.runValues(insertOf(chunk.length), chunk.flatMap((row) => row.values));
  }
  for (const { stored } of rows) {
    for (const dependsOn of stored.dependsOn) {
      sql.run("INSERT OR IGNORE INTO task_deps (task_id, depends_on) VALUES (:id, :dependsOn)", {
        id: stored.id,
        dependsOn,
      });
    }
  }
  return rows.map((row) => row.stored);
}

/**
 * Inserts a new task row and its dependency edges; returns the stored task.
 */
export function insertTask(sql: Sql, task: NewTask, initial: InitialState): Task {
  return insertTasks(sql, [{ task, initial }])[0];
}

/**
 * True when some dependency of the task exists and has not succeeded. A
 * dependency removed by retention no longer holds anything back (a waiting
 * task can only have finished dependencies that succeeded, unless it was
 * retried by hand).
 */
export function hasPendingDependency(sql: Sql, id: string): boolean {
  return sql.get(
    `SELECT 1 FROM task_deps d CROSS JOIN tasks t ON t.id = d.depends_on
     WHERE d.task_id = :id AND t.state <> 'succeeded' LIMIT 1`,
    { id },
  ) !== undefined;
}
