/**
 * Batches on the embedded store: a `batches` row per batch (when it began,
 * when its completion was announced) and the tasks that carry its id
 * (`tasks.batch_id`, indexed with the state, so counting a batch and asking
 * whether any of it is live read the index alone).
 */

import { ValidationError } from "../../errors.ts";
import type { NewTask, Task, TaskState } from "../../tasks/task.ts";
import {
  BATCH_COUNT_LIMIT,
  type BatchListQuery,
  batchOfTasks,
  type BatchPage,
  type BatchPulse,
  batchTaken,
  type BatchView,
  listedBatch,
  tallyBatch,
} from "../batch-store.ts";
import { LIVE_STATE_SQL } from "./schema.ts";
import type { Sql } from "./statements.ts";
import { taskFromRow } from "./task-rows.ts";

/**
 * Starts the tasks' batch, or opens it again for more tasks (inside the
 * enqueue's transaction): with `newBatch`, an existing batch is a
 * ConflictError and nothing is created.
 */
export function joinBatch(
  sql: Sql,
  tasks: readonly NewTask[],
  newBatch: boolean,
  now: number,
): void {
  const first = batchOfTasks(tasks);
  if (first === null) {
    if (newBatch) throw new ValidationError("a new batch needs tasks with a batch id");
    return;
  }
  const params = { id: first.batchId!, parent: first.parentId ?? null, now };
  if (newBatch) {
    if (sql.get("SELECT 1 FROM batches WHERE id = :id", { id: params.id }) !== undefined) {
      throw batchTaken(params.id);
    }
    sql.run(
      "INSERT INTO batches (id, parent_id, created_at) VALUES (:id, :parent, :now)",
      params,
    );
    return;
  }
  sql.run(
    `INSERT INTO batches (id, parent_id, created_at) VALUES (:id, :parent, :now)
     ON CONFLICT (id) DO UPDATE SET completed_at = NULL`,
    params,
  );
}

/** The batch, counted now; null when unknown. */
export function readBatch(sql: Sql, id: string): BatchView | null {
  const row = sql.get("SELECT parent_id, created_at, completed_at FROM batches WHERE id = :id", {
    id,
  });
  if (row === undefined) return null;
  const tasks = sql.all("SELECT state, progress FROM tasks WHERE batch_id = :id", { id }).map((
    r,
  ) => ({ state: String(r.state) as TaskState, progress: Number(r.progress) }));
  const view: BatchView = { id, ...tallyBatch(tasks), createdAt: Number(row.created_at) };
  if (row.parent_id !== null && row.parent_id !== undefined) view.parentId = String(row.parent_id);
  if (row.completed_at !== null && row.completed_at !== undefined) {
    view.completedAt = Number(row.completed_at);
  }
  return view;
}

/**
 * How far the batch is: its tasks and its live ones counted from the
 * `tasks_batch` index alone (batch id and state), so no task row is read.
 */
export function readBatchPulse(sql: Sql, id: string): BatchPulse | null {
  const row = sql.get("SELECT completed_at FROM batches WHERE id = :id", { id });
  if (row === undefined) return null;
  const counts = sql.get(
    `SELECT count(*) AS joined, count(*) FILTER (WHERE ${LIVE_STATE_SQL}) AS live
     FROM tasks WHERE batch_id = :id`,
    { id },
  );
  return {
    joined: Number(counts?.joined ?? 0),
    live: Number(counts?.live ?? 0),
    completed: row.completed_at !== null && row.completed_at !== undefined,
  };
}

/** Ids of batches not announced yet, oldest first. */
export function readOpenBatches(sql: Sql, limit: number): string[] {
  return sql.all(
    "SELECT id FROM batches WHERE completed_at IS NULL ORDER BY created_at, id LIMIT :limit",
    { limit },
  ).map((row) => String(row.id));
}

/**
 * A page of batches newest first (see BatchStore.listBatches): the rows by
 * the index on (created_at, id) or (completed_at, id), each batch's tasks by
 * `tasks_batch`, at most `countLimit` of them.
 */
export function listBatchRows(sql: Sql, query: BatchListQuery): BatchPage {
  const completed = query.state === "completed";
  const at = completed ? "completed_at" : "created_at";
  const where = query.state === undefined
    ? []
    : [completed ? "completed_at IS NOT NULL" : "completed_at IS NULL"];
  if (query.after !== undefined) where.push(`(${at}, id) < (:at, :id)`);
  const rows = sql.all(
    `SELECT id, parent_id, created_at, completed_at FROM batches
     ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY ${at} DESC, id DESC LIMIT :limit`,
    { at: query.after?.at ?? null, id: query.after?.id ?? null, limit: query.limit + 1 },
  );
  const countLimit = query.countLimit ?? BATCH_COUNT_LIMIT;
  const batches = rows.slice(0, query.limit).map((row) => {
    const id = String(row.id);
    const tasks = sql.all(
      "SELECT state, progress FROM tasks WHERE batch_id = :id LIMIT :limit",
      { id, limit: countLimit + 1 },
    ).map((r) => ({ state: String(r.state) as TaskState, progress: Number(r.progress) }));
    const head = {
      id,
      createdAt: Number(row.created_at),
      parentId: row.parent_id === null ? undefined : String(row.parent_id),
      completedAt: row.completed_at === null ? undefined : Number(row.completed_at),
    };
    return listedBatch(head, tasks.slice(0, countLimit), tasks.length > countLimit);
  });
  if (rows.length <= query.limit) return { batches };
  const last = batches[batches.length - 1];
  return { batches, next: { at: (completed ? last.completedAt : last.createdAt)!, id: last.id } };
}

/** The batch's tasks, oldest first. */
export function readBatchTasks(sql: Sql, id: string, limit: number): Task[] {
  return sql.all(
    "SELECT * FROM tasks WHERE batch_id = :id ORDER BY created_at, id LIMIT :limit",
    { id, limit },
  ).map(taskFromRow);
}

/**
 * Marks the batch completed when none of its tasks is live and it is not
 * marked yet; the view when this call marked it, else null. One
 * transaction, so of concurrent calls exactly one marks it.
 */
export function settleBatchRow(sql: Sql, id: string, now: number): BatchView | null {
  const row = sql.get("SELECT completed_at FROM batches WHERE id = :id", { id });
  if (row === undefined || (row.completed_at !== null && row.completed_at !== undefined)) {
    return null;
  }
  const live = sql.get(`SELECT 1 FROM tasks WHERE batch_id = :id AND ${LIVE_STATE_SQL} LIMIT 1`, {
    id,
  });
  if (live !== undefined) return null;
  sql.run("UPDATE batches SET completed_at = :now WHERE id = :id", { id, now });
  return readBatch(sql, id);
}
