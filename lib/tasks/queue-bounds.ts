/**
 * Bounded queues above the store: the `maxSize` option an enqueue passes for
 * the queues of its tasks (from `queues.<name>` and `queues["*"]`), and what
 * becomes of a hook-made task its queue refused (the `reject` policy: a
 * `task.rejected` event, counted by `un_tasks_rejected_total`, and a log line
 * per queue at most every {@link REJECTION_LOG_MS}, so a flood is summed up
 * rather than logged task by task).
 */

import { queueBound, type QueueSettings } from "../config/queues.ts";
import type { EventInit } from "../events/cloud-event.ts";
import type { QueueFullError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { EnqueueOptions } from "../store/types.ts";
import type { NewTask } from "./task.ts";
import { TASKS_SOURCE } from "./task-events.ts";

/** A queue's refusals are logged at most this often (the rest are summed into the next line). */
export const REJECTION_LOG_MS = 10_000;

/**
 * The enqueue options for `tasks`: the bound of each of their queues that has
 * one, or undefined when none has (the store then reads nothing more).
 */
export function boundsFor(
  queues: Readonly<Record<string, QueueSettings>>,
  tasks: readonly Pick<NewTask, "queue">[],
): EnqueueOptions | undefined {
  let maxSize: Record<string, number> | undefined;
  for (const { queue } of tasks) {
    if (maxSize !== undefined && Object.hasOwn(maxSize, queue)) continue;
    const bound = queueBound(queues, queue).maxSize;
    if (bound !== undefined) (maxSize ??= {})[queue] = bound;
  }
  return maxSize === undefined ? undefined : { maxSize };
}

/** The refusals of one queue since its last log line. */
interface Unlogged {
  count: number;
  ids: string[];
  loggedAt: number;
}

/**
 * Hook-made tasks their full queue refused: each becomes a `task.rejected`
 * event, and the log says so once per queue per {@link REJECTION_LOG_MS}.
 */
export class QueueRejections {
  readonly #byQueue = new Map<string, Unlogged>();

  constructor(private readonly log: Logger, private readonly now: () => number) {}

  /** The event for a refused task; logs (or sums up for later) the refusal. */
  reject(task: NewTask, error: QueueFullError): EventInit {
    const now = this.now();
    let unlogged = this.#byQueue.get(task.queue);
    if (unlogged === undefined) {
      unlogged = { count: 0, ids: [], loggedAt: -Infinity };
      this.#byQueue.set(task.queue, unlogged);
    }
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
