/**
 * What the bulk routes (`POST /un/tasks/bulk`, queue drain and obliterate)
 * hand lib/tasks/bulk.ts: the store, and the supervisor as the way to
 * announce changes (`event.emitMany`, the outlet every `task.*` event goes
 * through) and to wake the pool (`task.ready`).
 */

import type { ControlWith } from "../lib/control.ts";
import type { TaskStore } from "../lib/store/types.ts";
import type { BulkDeps } from "../lib/tasks/bulk.ts";

/**
 * The runtime's side of a bulk action.
 */
export function bulkDeps(control: ControlWith<TaskStore>): BulkDeps {
  return {
    store: control.store,
    now: () => Date.now(),
    emit: (inits) => control.send({ type: "event.emitMany", inits }),
    ready: (count) => control.send({ type: "task.ready", count }),
    prioritizer: control.config.prioritizer,
  };
}
