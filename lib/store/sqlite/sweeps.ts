/**
 * Time-driven transitions the scheduler runs periodically: due tasks become
 * ready, stalled leases are recovered, and tasks whose expiry passed end.
 */

import type { TaskState } from "../../tasks/task.ts";
import type { TaskTransition } from "../types.ts";
import { expireTask } from "./claim.ts";
import { failDependents } from "./dependents.ts";
import { DUE_STATE_SQL, NOT_STARTED_SQL } from "./schema.ts";
import { num, type Sql, text, textOrNull } from "./statements.ts";
import { jsonText, updateTask } from "./task-rows.ts";

/**
 * `scheduled`/`retrying` tasks whose runAt has come become `queued` (their
 * sortKey and enqueuedAt stay, so they keep their place in line).
 */
export function promoteDueTasks(sql: Sql, now: number): TaskTransition[] {
  const due = sql.all(
    `SELECT id, state FROM tasks INDEXED BY tasks_due WHERE ${DUE_STATE_SQL} AND run_at <= :now ORDER BY run_at, id`,
    { now },
  );
  const transitions: TaskTransition[] = [];
  for (const entry of due) {
    const updated = updateTask(
      sql,
      `UPDATE tasks SET state = 'queued' WHERE id = :id AND ${DUE_STATE_SQL}`,
      { id: text(entry, "id") },
    );
    if (updated) transitions.push({ task: updated, from: text(entry, "state") as TaskState });
  }
  return transitions;
}

/**
 * Running tasks whose lease ran out (every running task with `all`) go back to
 * `queued`, or end `dead` when no attempt is left (failing their dependents).
 * The fence stays: the next claim bumps it, and the old holder's calls already
 * fail because the task is no longer running.
 */
export function recoverStalledTasks(sql: Sql, now: number, all: boolean): TaskTransition[] {
  const stalled = all
    ? sql.all("SELECT id, attempts, max_attempts, worker_id FROM tasks WHERE state = 'running'")
    : sql.all(
      `SELECT id, attempts, max_attempts, worker_id FROM tasks
       INDEXED BY tasks_lease WHERE state = 'running' AND lease_until < :now ORDER BY lease_until, id`,
      { now },
    );
  const transitions: TaskTransition[] = [];
  for (const entry of stalled) {
    const id = text(entry, "id");
    const attempts = num(entry, "attempts");
    const error = {
      message: `lease expired: worker ${textOrNull(entry, "worker_id")} stopped renewing`,
      attempt: attempts,
    };
    if (attempts < num(entry, "max_attempts")) {
      const updated = updateTask(
        sql,
        `UPDATE tasks SET state = 'queued', worker_id = NULL, lease_until = NULL, error = :error
         WHERE id = :id AND state = 'running'`,
        { id, error: jsonText(error) },
      );
      if (updated) transitions.push({ task: updated, from: "running" });
      continue;
    }
    const updated = updateTask(
      sql,
      `UPDATE tasks SET state = 'dead', lease_until = NULL, error = :error, finished_at = :now
       WHERE id = :id AND state = 'running'`,
      { id, error: jsonText(error), now },
    );
    if (!updated) continue;
    transitions.push({ task: updated, from: "running" });
    transitions.push(...failDependents(sql, id, "dead", now));
  }
  return transitions;
}

/**
 * Tasks that had not started when their `expiresAt` passed become `expired`
 * (failing their dependents).
 */
export function expireDueTasks(sql: Sql, now: number): TaskTransition[] {
  const due = sql.all(
    `SELECT id FROM tasks INDEXED BY tasks_expiry WHERE expires_at IS NOT NULL AND ${NOT_STARTED_SQL}
       AND expires_at <= :now ORDER BY expires_at, id`,
    { now },
  );
  return due.flatMap((entry) => expireTask(sql, text(entry, "id"), now));
}
