/**
 * One task's life after it was claimed or while it waits: lease renewal,
 * progress, completion, failure, cancel, retry and reprioritize.
 *
 * A worker's calls carry the fence it got from claim; they apply only while
 * the task is still `running` under that fence, so a worker whose lease ran out
 * (or whose task was cancelled) cannot overwrite what happened since.
 */

import { ConflictError, LeaseLostError, NotFoundError } from "../../errors.ts";
import type { Json } from "../../events/cloud-event.ts";
import { isTerminal, type Task, type TaskError } from "../../tasks/task.ts";
import type { FinishResult } from "../types.ts";
import { failDependents, releaseDependents } from "./dependents.ts";
import { liveTaskByKey } from "./enqueue.ts";
import { NOT_STARTED_SQL } from "./schema.ts";
import type { Sql } from "./statements.ts";
import { hasPendingDependency, jsonText, readTask, updateTask } from "./task-rows.ts";

const HELD = "id = :id AND state = 'running' AND fence = :fence";

/**
 * Extends the lease; false when the fence no longer holds.
 */
export function renewLease(
  sql: Sql,
  id: string,
  fence: number,
  leaseMs: number,
  now: number,
): boolean {
  return sql.run(`UPDATE tasks SET lease_until = :until WHERE ${HELD}`, {
    id,
    fence,
    until: now + leaseMs,
  }) === 1;
}

/**
 * Records progress (clamped to 0..1); throws {@link LeaseLostError} when the
 * fence no longer holds.
 */
export function recordProgress(
  sql: Sql,
  id: string,
  fence: number,
  fraction: number,
  message: string | null,
): void {
  const progress = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const changed = sql.run(
    `UPDATE tasks SET progress = :progress, progress_message = :message WHERE ${HELD}`,
    { id, fence, progress, message },
  );
  if (changed !== 1) throw new LeaseLostError(id, fence);
}

/**
 * What the store knows that spares a finish statements.
 */
export interface FinishHints {
  /**
   * The task as this store's claim returned it, with the progress message
   * recorded since. While its fence holds, only the lease and the progress
   * can have changed, and the finish sets both, so the finished task is made
   * from it without reading the row back.
   */
  claimed?: Task;
  /** False when no task has dependencies (no edges stored): no dependents to look for. */
  edges?: boolean;
}

/**
 * Marks success and releases dependents that were waiting only on this task.
 */
export function completeTask(
  sql: Sql,
  id: string,
  fence: number,
  result: Json,
  now: number,
  hints: FinishHints = {},
): FinishResult {
  const stored = jsonText(result);
  const params = { id, fence, result: stored, now };
  const set = `UPDATE tasks SET state = 'succeeded', result = :result, progress = 1,
       finished_at = :now, lease_until = NULL
     WHERE ${HELD}`;
  let task: Task | null;
  const claimed = hints.claimed;
  if (claimed !== undefined && claimed.id === id && claimed.fence === fence) {
    task = sql.run(set, params) !== 1 ? null : {
      ...claimed,
      state: "succeeded",
      // Parsed back from the stored text, as a read returns it.
      result: stored === null ? null : JSON.parse(stored) as Json,
      progress: 1,
      finishedAt: now,
      leaseUntil: null,
    };
  } else {
    task = updateTask(sql, set, params);
  }
  if (task === null) throw new LeaseLostError(id, fence);
  return { task, dependents: hints.edges === false ? [] : releaseDependents(sql, id, now) };
}

/**
 * Records a failed attempt: `retrying` at `retryAt`, else `failed` (permanent
 * error) or `dead`, failing waiting dependents.
 */
export function failTask(
  sql: Sql,
  id: string,
  fence: number,
  error: TaskError,
  retryAt: number | null,
  now: number,
): FinishResult {
  if (retryAt !== null && retryAt !== undefined) {
    const updated = updateTask(
      sql,
      `UPDATE tasks SET state = 'retrying', run_at = :retryAt, error = :error, worker_id = NULL,
         lease_until = NULL
       WHERE ${HELD}`,
      { id, fence, retryAt, error: jsonText(error) },
    );
    if (updated === null) throw new LeaseLostError(id, fence);
    return { task: updated, dependents: [] };
  }
  const state = error.permanent ? "failed" : "dead";
  const updated = updateTask(
    sql,
    `UPDATE tasks SET state = :state, error = :error, finished_at = :now, lease_until = NULL
     WHERE ${HELD}`,
    { id, fence, state, error: jsonText(error), now },
  );
  if (updated === null) throw new LeaseLostError(id, fence);
  return { task: updated, dependents: failDependents(sql, id, state, now) };
}

/**
 * Cancels a live task (a running one too: its worker's late calls are refused).
 */
export function cancelTask(sql: Sql, id: string, now: number): FinishResult {
  const task = mustRead(sql, id);
  if (isTerminal(task.state)) {
    throw new ConflictError(`task ${id} is ${task.state}; only live tasks can be cancelled`, {
      id,
      state: task.state,
    });
  }
  const updated = updateTask(
    sql,
    `UPDATE tasks SET state = 'cancelled', finished_at = :now, lease_until = NULL
     WHERE id = :id`,
    { id, now },
  );
  return { task: updated!, dependents: failDependents(sql, id, "cancelled", now) };
}

/**
 * Puts a failed, dead, cancelled or expired task back with fresh attempts:
 * `queued`, or `waiting` while a dependency has not succeeded.
 */
export function retryTask(sql: Sql, id: string, now: number): Task {
  const task = mustRead(sql, id);
  if (!isTerminal(task.state) || task.state === "succeeded") {
    throw new ConflictError(
      `task ${id} is ${task.state}; only failed, dead, cancelled or expired tasks can be retried`,
      { id, state: task.state },
    );
  }
  const holder = task.key === null ? null : liveTaskByKey(sql, task.key);
  if (holder !== null) {
    throw new ConflictError(
      `task ${id} cannot be retried: live task ${holder.id} already has key "${task.key}"`,
      { id, key: task.key, liveTaskId: holder.id },
    );
  }
  const updated = updateTask(
    sql,
    `UPDATE tasks SET state = :state, attempts = 0, error = NULL, result = NULL,
       finished_at = NULL, started_at = NULL, enqueued_at = :now, run_at = NULL, progress = 0,
       progress_message = NULL, worker_id = NULL, lease_until = NULL
     WHERE id = :id`,
    { id, now, state: hasPendingDependency(sql, id) ? "waiting" : "queued" },
  );
  return updated!;
}

/**
 * New priority and sort key for a task that has not started.
 */
export function reprioritizeTask(
  sql: Sql,
  id: string,
  priority: number,
  sortKey: number,
  explanation: Task["explanation"],
): Task {
  const updated = updateTask(
    sql,
    `UPDATE tasks SET priority = :priority, sort_key = :sortKey, explanation = :explanation
     WHERE id = :id AND ${NOT_STARTED_SQL}`,
    { id, priority, sortKey, explanation: JSON.stringify(explanation) },
  );
  if (updated !== null) return updated;
  const task = mustRead(sql, id);
  throw new ConflictError(
    `task ${id} is ${task.state}; only waiting, scheduled, queued or retrying tasks can be reprioritized`,
    { id, state: task.state },
  );
}

function mustRead(sql: Sql, id: string): Task {
  const task = readTask(sql, id);
  if (task === null) throw new NotFoundError("task", id);
  return task;
}
