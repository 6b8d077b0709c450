/**
 * Bounded queues above the store: the `maxSize` (and, for hook-made tasks,
 * `overflow`) option an enqueue passes for the queues of its tasks (from
 * `queues.<name>` and `queues["*"]`), and what becomes of a hook-made task
 * past a full queue's bound: under `reject`, a `task.rejected` event counted
 * by `un_tasks_rejected_total`; under `drop-oldest`/`drop-lowest-priority`,
 * a `task.dropped` event for each queued task the store cancelled to make
 * room, counted by `un_tasks_dropped_total`. Either way a log line per queue
 * at most every {@link REJECTION_LOG_MS}, so a flood is summed up rather than
 * logged task by task.
 */

import { queueBound, type QueueSettings } from "../config/queues.ts";
import type { EventInit } from "../events/cloud-event.ts";
import type { QueueFullError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { DropPolicy } from "../store/task-store.ts";
import type { EnqueueOptions, EnqueueResult } from "../store/types.ts";
import type { NewTask } from "./task.ts";
import { TASKS_SOURCE, transitionEvents } from "./task-events.ts";

/** A queue's refusals are logged at most this often (the rest are summed into the next line). */
export const REJECTION_LOG_MS = 10_000;

/**
 * The enqueue options for `tasks`: the bound of each of their queues that has
 * one, or undefined when none has (the store then reads nothing more). For
 * hook-made tasks (`hooked`) also the drop policy of each such queue that
 * has one; other creates always refuse (an API caller gets its 429).
 */
export function boundsFor(
  queues: Readonly<Record<string, QueueSettings>>,
  tasks: readonly Pick<NewTask, "queue">[],
  hooked = false,
): EnqueueOptions | undefined {
  let maxSize: Record<string, number> | undefined;
  let overflow: Record<string, DropPolicy> | undefined;
  for (const { queue } of tasks) {
    if (maxSize !== undefined && Object.hasOwn(maxSize, queue)) continue;
    const bound = queueBound(queues, queue);
    if (bound.maxSize === undefined) continue;
    (maxSize ??= {})[queue] = bound.maxSize;
    if (hooked && bound.overflow !== "reject") (overflow ??= {})[queue] = bound.overflow;
  }
  if (maxSize === undefined) return undefined;
  return overflow === undefined ? { maxSize } : { maxSize, overflow };
}

/** True when a hook-made task of `queue` drops queued tasks of a full queue instead of being refused. */
export function dropsWhenFull(
  queues: Readonly<Record<string, QueueSettings>>,
  queue: string,
): boolean {
  const bound = queueBound(queues, queue);
  return bound.maxSize !== undefined && bound.overflow !== "reject";
}

/** The refusals of one queue since its last log line. */
interface Unlogged {
  count: number;
  ids: string[];
  loggedAt: number;
}

/**
 * Hook-made tasks their full queue refused, and queued tasks a full queue
 * dropped for them: each becomes a `task.rejected` or `task.dropped` event,
 * and the log says so once per queue per {@link REJECTION_LOG_MS}.
 */
export class QueueRejections {
  readonly #byQueue = new Map<string, Unlogged>();
  readonly #dropsByQueue = new Map<string, Unlogged>();

  constructor(private readonly log: Logger, private readonly now: () => number) {}

  /**
   * The events of the tasks the store dropped for `results` (none when it
   * dropped nothing): `task.dropped` for each, then its dependents' changes;
   * logs (or sums up for later) the drops.
   */
  dropped(results: readonly EnqueueResult[]): EventInit[] {
    const inits: EventInit[] = [];
    for (const { task: by, dropped } of results) {
      for (const { task, dependents } of dropped ?? []) {
        const reason = task.error?.message ?? "dropped: queue full";
        const unlogged = this.#unlogged(this.#dropsByQueue, task.queue);
        unlogged.count++;
        if (unlogged.ids.length < 10) unlogged.ids.push(task.id);
        if (this.now() - unlogged.loggedAt >= REJECTION_LOG_MS) {
          this.log.warn("queue full: queued tasks dropped for hook-made ones", {
            queue: task.queue,
            dropped: unlogged.count,
            ids: unlogged.ids,
            reason,
          });
          Object.assign(unlogged, { count: 0, ids: [], loggedAt: this.now() });
        }
        inits.push({
          type: "task.dropped",
          source: TASKS_SOURCE,
          subject: task.id,
          data: { id: task.id, queue: task.queue, type: task.type, reason, by: by.id },
        });
        inits.push(...transitionEvents(dependents, `dependency ${task.id} dropped`));
      }
    }
    return inits;
  }

  #unlogged(map: Map<string, Unlogged>, queue: string): Unlogged {
    let unlogged = map.get(queue);
    if (unlogged === undefined) {
      unlogged = { count: 0, ids: [], loggedAt: -Infinity };
      map.set(queue, unlogged);
    }
    return unlogged;
  }

  /** The event for a refused task; logs (or sums up for later) the refusal. */
  reject(task: NewTask, error: QueueFullError): EventInit {
    const now = this.now();
    const unlogged = this.#unlogged(this.#byQueue, task.queue);
    unlogged.count++;
    if (unlogged.ids.length < 10) unlogged.ids.push(task.id);
    if (now - unlogged.loggedAt >= REJECTION_LOG_MS) {
      this.log.warn("queue full: hook-made tasks rejected", {
        queue: task.queue,
        rejected: unlogged.count,
        ids: unlogged.ids,
        size: error.size,
        maxSize: error.maxSize,
      });
      unlogged.count = 0;
      unlogged.ids = [];
      unlogged.loggedAt = now;
    }
    return {
      type: "task.rejected",
      source: TASKS_SOURCE,
      subject: task.id,
      data: {
        id: task.id,
        queue: task.queue,
        type: task.type,
        reason: error.message,
        size: error.size,
        maxSize: error.maxSize,
      },
    };
  }
}
