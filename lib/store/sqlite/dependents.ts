/**
 * What happens to waiting dependents when a task finishes: released when all
 * their dependencies succeeded, failed (transitively) when one ended badly.
 */

import type { TaskTransition } from "../types.ts";
import type { TaskError, TaskState } from "../../tasks/task.ts";
import type { Sql } from "./statements.ts";
import { hasPendingDependency, jsonText, updateTask } from "./task-rows.ts";

// CROSS JOIN fixes the join order (edges first, by the reverse index): the
// planner would otherwise start from every waiting task.
const WAITING_DEPENDENTS = `SELECT t.id FROM task_deps d CROSS JOIN tasks t ON t.id = d.task_id
  WHERE d.depends_on = :id AND t.state = 'waiting' ORDER BY d.task_id`;

/**
 * The error a task gets when a dependency ended in `state`.
 */
export function dependencyError(dependencyId: string, state: TaskState): TaskError {
  return { message: `dependency ${dependencyId} ended ${state}`, attempt: 0, permanent: true };
}

/**
 * After `id` succeeded: every waiting dependent whose dependencies have now all
 * succeeded becomes `queued` (or `scheduled` when its runAt is still ahead),
 * with `enqueuedAt = now` (it starts aging from here).
 */
export function releaseDependents(sql: Sql, id: string, now: number): TaskTransition[] {
  const released: TaskTransition[] = [];
  for (const row of sql.all(WAITING_DEPENDENTS, { id })) {
    const dependentId = String(row.id);
    if (hasPendingDependency(sql, dependentId)) continue;
    const updated = updateTask(
      sql,
      `UPDATE tasks SET
         state = CASE WHEN run_at IS NOT NULL AND run_at > :now THEN 'scheduled' ELSE 'queued' END,
         enqueued_at = :now
       WHERE id = :id AND state = 'waiting'`,
      { id: dependentId, now },
    );
    if (updated) released.push({ task: updated, from: "waiting" });
  }
  return released;
}

/**
 * After `id` ended in a state other than `succeeded`: every waiting dependent,
 * transitively, becomes `failed` with a permanent "dependency <id> ended
 * <state>" error naming its own direct dependency.
 */
export function failDependents(
  sql: Sql,
  id: string,
  state: TaskState,
  now: number,
): TaskTransition[] {
  const failed: TaskTransition[] = [];
  const frontier: Array<{ id: string; state: TaskState }> = [{ id, state }];
  for (let next = frontier.shift(); next !== undefined; next = frontier.shift()) {
    for (const row of sql.all(WAITING_DEPENDENTS, { id: next.id })) {
      const updated = updateTask(
        sql,
        `UPDATE tasks SET state = 'failed', error = :error, finished_at = :now
         WHERE id = :id AND state = 'waiting'`,
        { id: String(row.id), error: jsonText(dependencyError(next.id, next.state)), now },
      );
      if (!updated) continue;
      const task = updated;
      failed.push({ task, from: "waiting" });
      frontier.push({ id: task.id, state: "failed" });
    }
  }
  return failed;
}

/**
 * Dependents of a task that just reached `state`: released on success, failed
 * otherwise.
 */
export function settleDependents(
  sql: Sql,
  id: string,
  state: TaskState,
  now: number,
): TaskTransition[] {
  return state === "succeeded"
    ? releaseDependents(sql, id, now)
    : failDependents(sql, id, state, now);
}
