/**
 * Retention: bounds on finished tasks, their results and the event log. Live
 * tasks are never touched.
 */

import type { RetentionPolicy } from "../types.ts";
import { trimEventRows } from "./events.ts";
import { TERMINAL_STATE_SQL } from "./schema.ts";
import type { Sql } from "./statements.ts";

/**
 * Applies the policy at `now`; returns what it removed or cleared. Results
 * are cleared from tasks that finished at or after `resultsFrom` (where the
 * last clearing stopped; 0: from the first), walking the finished tasks by
 * `tasks_finished`: a success updates no index of its own for this.
 */
export function trimStore(
  sql: Sql,
  policy: RetentionPolicy,
  now: number,
  resultsFrom = 0,
): { tasks: number; events: number; results: number } {
  let tasks = sql.run(
    `DELETE FROM tasks INDEXED BY tasks_finished
     WHERE ${TERMINAL_STATE_SQL} AND finished_at < :cutoff`,
    { cutoff: now - policy.finishedTaskMaxAgeMs },
  );
  const finished = Number(
    sql.get(`SELECT count(*) AS n FROM tasks INDEXED BY tasks_finished WHERE ${TERMINAL_STATE_SQL}`)
      ?.n ?? 0,
  );
  const excess = finished - Math.max(0, policy.maxFinishedTasks);
  if (excess > 0) {
    tasks += sql.run(
      `DELETE FROM tasks WHERE id IN (
         SELECT id FROM tasks INDEXED BY tasks_finished WHERE ${TERMINAL_STATE_SQL}
         ORDER BY finished_at, id LIMIT :excess)`,
      { excess },
    );
  }
  const results = sql.run(
    `UPDATE tasks INDEXED BY tasks_finished SET result = NULL
     WHERE ${TERMINAL_STATE_SQL} AND finished_at >= :from AND finished_at < :cutoff
       AND state = 'succeeded' AND result IS NOT NULL`,
    { from: resultsFrom, cutoff: now - policy.resultTtlMs },
  );
  // Batches go with their tasks: announced ones as old as the finished tasks removed.
  sql.run("DELETE FROM batches WHERE completed_at < :cutoff", {
    cutoff: now - policy.finishedTaskMaxAgeMs,
  });
  const events = trimEventRows(sql, now - policy.eventMaxAgeMs, policy.maxEvents);
  return { tasks, events, results };
}
