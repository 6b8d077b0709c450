/**
 * Enqueue requests that arrive together (the hook tasks of a first scan, a
 * burst of API creates) are stored with one write, and the pool hears of them
 * with one notice ({@link ReadyNotice}): the requests of one
 * synchronous run are gathered and go on a microtask as one `enqueueMany`,
 * whose one savepoint, one promise and one announcement replace one of each
 * per task. `enqueueMany` is all or nothing and a lone request is not, so:
 * - a batch that fails is retried one request at a time, and each request
 *   gets its own answer, as if it had been sent alone;
 * - a request with dependencies is never batched (in a batch it could wait
 *   on a task sent after it); the gathered ones are stored first, in order.
 * The owner flushes before anything else it does, so the store sees every
 * request in the order it was sent.
 */

import type { EnqueueResult, Store } from "../store/types.ts";
import type { NewTask } from "./task.ts";

/**
 * One request of a burst and where its answer goes.
 */
export interface BurstEntry {
  task: NewTask;
  done(result: EnqueueResult): void;
  failed(error: unknown): void;
}

/**
 * Gathers enqueues into batches.
 *
 * @example
 * ```ts
 * const burst = new EnqueueBurst(store, Date.now, (results) => announce(results));
 * burst.add({ task, done, failed }); // stored on the next microtask, with the others of this run
 * ```
 */
export class EnqueueBurst {
  #pending: BurstEntry[] = [];

  constructor(
    private readonly store: Pick<Store, "enqueue" | "enqueueMany">,
    private readonly now: () => number,
    private readonly announce: (results: EnqueueResult[]) => void,
  ) {}

  /** Queues a request; one with dependencies is stored at once, after the queued ones. */
  add(entry: BurstEntry): void {
    if (entry.task.dependsOn.length > 0) {
      this.flush();
      this.#one(entry);
      return;
    }
    if (this.#pending.length === 0) queueMicrotask(() => this.flush());
    this.#pending.push(entry);
  }

  /** Stores what is queued now. */
  flush(): void {
    const entries = this.#pending;
    if (entries.length === 0) return;
    this.#pending = [];
    if (entries.length === 1) return this.#one(entries[0]);
    this.store.enqueueMany(entries.map((entry) => entry.task), this.now()).then((results) => {
      this.announce(results);
      results.forEach((result, i) => entries[i].done(result));
    }, () => entries.forEach((entry) => this.#one(entry)));
  }

  #one(entry: BurstEntry): void {
    this.store.enqueue(entry.task, this.now()).then((result) => {
      this.announce([result]);
      entry.done(result);
    }, (error) => entry.failed(error));
  }
}

/**
 * Tells the pool about ready tasks once per burst: the enqueues of one group
 * commit are answered together, each a microtask after the other, and the
 * notice goes after the last of them with their sum (one `task.ready`
 * through the supervisor instead of one per task).
 *
 * @example
 * ```ts
 * const ready = new ReadyNotice((count) => supervisor.send({ type: "task.ready", count }));
 * ready.add(3);
 * ready.add(2); // one task.ready of 5, on a microtask
 * ```
 */
export class ReadyNotice {
  #count = 0;

  constructor(private readonly tell: (count: number) => void) {}

  /** Counts tasks that became ready; the notice goes on a microtask. */
  add(count: number): void {
    if (count <= 0) return;
    if (this.#count === 0) queueMicrotask(() => this.#flush());
    this.#count += count;
  }

  #flush(): void {
    const count = this.#count;
    this.#count = 0;
    this.tell(count);
  }
}
