/**
 * `batch.completed`: when a task of a batch ends in this process (its
 * `task.*` event carries the batch id), the batch is settled in the store.
 * The store's settle is one atomic compare-and-set (it marks a batch whose
 * tasks have all ended, once), so of all the processes and calls that try,
 * exactly one gets the batch and announces it. Each process settles only
 * for its own events: the task's end was decided by exactly one process.
 */

import type { CloudEvent, EventInit, Json } from "../events/cloud-event.ts";
import type { EventBus } from "../events/bus.ts";
import type { Logger } from "../log.ts";
import type { BatchStore, BatchView } from "../store/batch-store.ts";
import { type TaskState, TERMINAL_STATES } from "./task.ts";

/** `source` of batch events. */
export const BATCHES_SOURCE = "/un/batches";

/** What {@link watchBatches} needs of a runtime. */
export interface BatchHost {
  readonly bus: EventBus;
  readonly store: Pick<BatchStore, "settleBatch">;
  readonly log: Logger;
  send(message: { type: "event.emit"; init: EventInit }): void;
}

/**
 * The `batch.completed` event of a batch just settled.
 *
 * @example
 * ```ts
 * batchCompleted(view).type; // "batch.completed"
 * ```
 */
export function batchCompleted(view: BatchView): EventInit {
  const data: Record<string, Json> = {
    id: view.id,
    total: view.total,
    counts: view.counts as Record<string, number>,
    progress: view.progress,
  };
  if (view.parentId !== undefined) data.parentId = view.parentId;
  const init: EventInit = {
    type: "batch.completed",
    source: BATCHES_SOURCE,
    subject: view.id,
    data,
  };
  if (view.parentId !== undefined) init.correlationid = view.parentId;
  return init;
}

/** The batch id of a task event whose task has ended, or null. */
function endedBatch(event: CloudEvent): string | null {
  const data = event.data;
  if (data === null || typeof data !== "object" || Array.isArray(data)) return null;
  const { batchId, state } = data as Record<string, Json>;
  if (typeof batchId !== "string") return null;
  return TERMINAL_STATES.includes(state as TaskState) ? batchId : null;
}

/**
 * Settles the batch of every task of a batch that ends in this process;
 * returns how to stop. One settle per batch runs at a time here: tasks
 * that end meanwhile ask for one more after it, not one each.
 */
export function watchBatches(host: BatchHost, now: () => number = Date.now): () => void {
  const running = new Map<string, { again: boolean }>();
  const settle = async (batchId: string): Promise<void> => {
    const state = { again: true };
    running.set(batchId, state);
    try {
      while (state.again) {
        state.again = false;
        const view = await host.store.settleBatch(batchId, now());
        if (view !== null) host.send({ type: "event.emit", init: batchCompleted(view) });
      }
    } catch (error) {
      host.log.warn("could not settle a batch", { batch: batchId, error });
    } finally {
      running.delete(batchId);
    }
  };
  return host.bus.subscribe(
    "task.*",
    (event) => {
      const batchId = endedBatch(event);
      if (batchId === null) return;
      const busy = running.get(batchId);
      if (busy) busy.again = true;
      else void settle(batchId);
    },
    "batches",
    { remote: false },
  );
}
