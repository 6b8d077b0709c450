/**
 * Bulk changes of the embedded store: one action over a batch of tasks, in
 * the one transaction the caller's write runs in. Each task goes through the
 * same step a single-task action takes (lifecycle.ts), so a bulk cancel, retry
 * or reprioritize leaves a task exactly as the single action would; a task the
 * action no longer applies to (it moved on meanwhile, or is gone) is skipped.
 */

import { ConflictError, NotFoundError } from "../../errors.ts";
import { isTerminal } from "../../tasks/task.ts";
import type { TaskChange, TaskChangeResult } from "../types.ts";
import { cancelTask, reprioritizeTask, retryTask } from "./lifecycle.ts";
import type { Sql } from "./statements.ts";
import { readTask } from "./task-rows.ts";

/** Runs `step`; a task that is gone or in a state the action refuses is skipped (null). */
function unlessRefused<T>(step: () => T): T | null {
  try {
    return step();
  } catch (error) {
    if (error instanceof ConflictError || error instanceof NotFoundError) return null;
    throw error;
  }
}

/**
 * Applies a bulk change to the tasks it names; call it inside one write.
 */
export function changeTaskRows(sql: Sql, change: TaskChange, now: number): TaskChangeResult {
  const out: TaskChangeResult = { tasks: [], dependents: [] };
  if (change.action === "reprioritize") {
    for (const { id, priority, sortKey, explanation } of change.tasks) {
      const task = unlessRefused(() => reprioritizeTask(sql, id, priority, sortKey, explanation));
      if (task) out.tasks.push(task);
    }
    return out;
  }
  for (const id of change.ids) {
    switch (change.action) {
      case "cancel": {
        const done = unlessRefused(() => cancelTask(sql, id, now));
        if (done) {
          out.tasks.push(done.task);
          out.dependents.push(...done.dependents);
        }
        break;
      }
      case "retry": {
        const task = unlessRefused(() => retryTask(sql, id, now));
        if (task) out.tasks.push(task);
        break;
      }
      case "delete": {
        const task = readTask(sql, id);
        if (task === null || task.state === "running") break;
        if (!isTerminal(task.state)) out.dependents.push(...cancelTask(sql, id, now).dependents);
        // The tasks_drop_edges trigger takes the task's own dependency edges.
        sql.run("DELETE FROM tasks WHERE id = :id", { id });
        out.tasks.push(task);
        break;
      }
    }
  }
  return out;
}
