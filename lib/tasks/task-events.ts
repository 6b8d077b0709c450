/**
 * `task.*` events: one shape for every part that changes a task, so
 * subscribers see the same fields whoever made the change.
 */

import type { EventInit, EventPriority, Json } from "../events/cloud-event.ts";
import type { TaskTransition } from "../store/types.ts";
import type { Task } from "./task.ts";

/** `source` of task events. */
export const TASKS_SOURCE = "/un/tasks";

/** Event priority of a task priority (9 → critical ... 0 → low). */
export function eventPriorityOf(priority: number): EventPriority {
  if (priority >= 9) return "critical";
  if (priority >= 7) return "high";
  if (priority >= 3) return "normal";
  return "low";
}

/**
 * Builds a `task.<kind>` event for a task.
 */
export function taskEvent(
  kind: string,
  task: Task,
  extra: Record<string, Json> = {},
): EventInit {
  const init: EventInit = {
    type: `task.${kind}`,
    source: TASKS_SOURCE,
    subject: task.id,
    priority: eventPriorityOf(task.priority),
    data: {
      id: task.id,
      type: task.type,
      queue: task.queue,
      state: task.state,
      attempt: task.attempts,
      maxAttempts: task.maxAttempts,
      // Only a batch's tasks carry these (lib/tasks/batch-watch.ts settles their batch).
      ...(task.batchId === undefined ? {} : { batchId: task.batchId }),
      ...(task.parentId === undefined ? {} : { parentId: task.parentId }),
      ...extra,
    },
  };
  if (task.correlationId) init.correlationid = task.correlationId;
  return init;
}

/** The event a state change is announced with. */
export function kindOfState(task: Task): string {
  switch (task.state) {
    case "queued":
    case "scheduled":
    case "waiting":
      return "queued";
    default:
      return task.state;
  }
}

/**
 * Events for tasks a change carried along (dependents released or failed,
 * stalled tasks requeued, ...).
 */
export function transitionEvents(transitions: TaskTransition[], reason: string): EventInit[] {
  return transitions.map(({ task, from }) =>
    taskEvent(kindOfState(task), task, {
      reason,
      from,
      ...(task.error ? { error: task.error.message } : {}),
    })
  );
}
