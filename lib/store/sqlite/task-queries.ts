/**
 * Read-only task queries: listing, counts, the next due time and tasks near
 * their deadline.
 */

import type { Task, TaskState } from "../../tasks/task.ts";
import type { QueueCounts, TaskFilter } from "../types.ts";
import { DUE_STATE_SQL, NOT_STARTED_SQL } from "./schema.ts";
import { num, numOrNull, type Params, type Sql, text } from "./statements.ts";
import { taskFromRow } from "./task-rows.ts";

/**
 * The WHERE terms and parameters of a task filter (limit aside), for listing
 * and for bulk actions. `key` reads the `tasks_by_key` index; the rest walk
 * `tasks_created` newest first from the cursor (or `createdBefore`), which
 * stops at `createdAfter`: correlation ids and subjects have no index of
 * their own, as one would cost every enqueue a write (hook-made tasks all
 * carry a correlation id).
 */
export function taskFilterSql(filter: TaskFilter): { where: string; params: Params } {
  const terms: string[] = [];
  const params: Params = {};
  const equal = (column: string, name: string, value: string | undefined) => {
    if (value === undefined) return;
    terms.push(`${column} = :${name}`);
    params[name] = value;
  };
  equal("state", "state", filter.state);
  equal("queue", "queue", filter.queue);
  equal("type", "type", filter.type);
  equal("key", "key", filter.key);
  equal("correlation_id", "correlationId", filter.correlationId);
  if (filter.subject !== undefined) {
    terms.push("json_extract(payload, '$.event.subject') = :subject");
    params.subject = filter.subject;
  }
  if (filter.createdAfter !== undefined) {
    terms.push("created_at >= :createdAfter");
    params.createdAfter = filter.createdAfter;
  }
  if (filter.createdBefore !== undefined) {
    terms.push("created_at < :createdBefore");
    params.createdBefore = filter.createdBefore;
  }
  if (filter.after !== undefined) {
    terms.push("(created_at, id) < (:afterAt, :afterId)");
    params.afterAt = filter.after.createdAt;
    params.afterId = filter.after.id;
  }
  return { where: terms.length === 0 ? "" : `WHERE ${terms.join(" AND ")}`, params };
}

/**
 * Tasks matching the filter, newest first (createdAt, then id, descending),
 * from `filter.after` on.
 */
export function listTaskRows(sql: Sql, filter: TaskFilter): Task[] {
  const { where, params } = taskFilterSql(filter);
  params.limit = Math.max(0, Math.floor(filter.limit ?? 100));
  return sql.all(
    `SELECT * FROM tasks ${where} ORDER BY created_at DESC, id DESC LIMIT :limit`,
    params,
  ).map(taskFromRow);
}

/**
 * Earliest runAt among scheduled/retrying tasks.
 */
export function nextDueTime(sql: Sql): number | null {
  const row = sql.get(
    `SELECT min(run_at) AS due FROM tasks INDEXED BY tasks_due WHERE ${DUE_STATE_SQL}`,
  );
  return row === undefined ? null : numOrNull(row, "due");
}

/**
 * Not-started live tasks with a deadline at or before `before`, soonest first.
 */
export function tasksWithDeadlineBefore(sql: Sql, before: number, limit: number): Task[] {
  return sql.all(
    `SELECT * FROM tasks INDEXED BY tasks_deadline WHERE deadline IS NOT NULL AND ${NOT_STARTED_SQL}
       AND deadline <= :before ORDER BY deadline, id LIMIT :limit`,
    { before, limit },
  ).map(taskFromRow);
}

/**
 * Task counts by queue and state, every state present.
 */
export function countByQueue(sql: Sql): Record<string, QueueCounts> {
  const counts: Record<string, QueueCounts> = {};
  for (
    const row of sql.all("SELECT queue, state, count(*) AS n FROM tasks GROUP BY queue, state")
  ) {
    const queue = text(row, "queue");
    counts[queue] ??= emptyCounts();
    counts[queue][text(row, "state") as TaskState] = num(row, "n");
  }
  return counts;
}

/**
 * When the oldest queued task of each named queue was enqueued (its aging
 * clock), for `un_queue_oldest_age_seconds`. A task's sortKey is its
 * enqueuedAt less bonuses that are never negative, so the oldest task's
 * sortKey is at most its enqueuedAt, itself at most the head's: only the
 * ready index up to the head's enqueuedAt is read, not the whole backlog.
 */
export function oldestQueuedAt(sql: Sql, queues: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const queue of queues) {
    const row = sql.get(
      `SELECT min(enqueued_at) AS oldest FROM tasks INDEXED BY tasks_ready_by_queue
       WHERE state = 'queued' AND queue = :queue AND sort_key <= (
         SELECT enqueued_at FROM tasks INDEXED BY tasks_ready_by_queue
         WHERE state = 'queued' AND queue = :queue ORDER BY sort_key, id LIMIT 1)`,
      { queue },
    );
    const oldest = row === undefined ? null : numOrNull(row, "oldest");
    if (oldest !== null) out[queue] = oldest;
  }
  return out;
}

function emptyCounts(): QueueCounts {
  return {
    waiting: 0,
    scheduled: 0,
    queued: 0,
    running: 0,
    retrying: 0,
    succeeded: 0,
    failed: 0,
    dead: 0,
    cancelled: 0,
    expired: 0,
  };
}
