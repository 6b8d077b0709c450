/**
 * Serial queues: async jobs that must not overlap (a read-modify-write of one
 * source's state, one table's catch-up, one Redis check) run one after the
 * other, in call order, within this process.
 *
 * Not a cross-process lock: two processes sharing a store still need the
 * store's own atomic writes or leases.
 */

/**
 * Runs jobs one at a time per key, in the order they were queued; jobs of
 * different keys run concurrently. A failed job fails only its own caller:
 * the next job of the key still runs. A key that falls idle is forgotten, so
 * the map holds only keys with work queued.
 *
 * @example
 * ```ts
 * const perSource = new KeyedQueue();
 * await perSource.run(sourceId, async () => {
 *   const seen = await state.get("seen");
 *   await state.set("seen", [...seen, id]);
 * });
 * ```
 */
export class KeyedQueue<K = string> {
  readonly #tails = new Map<K, Promise<void>>();

  /** Runs `job` after every job queued earlier under `key` has settled; resolves with its result. */
  run<T>(key: K, job: () => T | Promise<T>): Promise<T> {
    const run = (this.#tails.get(key) ?? Promise.resolve()).then(job);
    const tail = run.then(() => {}, () => {});
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return run;
  }

  /** How many keys have work queued or running. */
  get busyKeys(): number {
    return this.#tails.size;
  }
}

/**
 * One serial queue: a {@link KeyedQueue} with a single key, for an object
 * whose jobs must never overlap.
 */
export class SerialQueue {
  readonly #queue = new KeyedQueue<null>();

  /** Runs `job` after every job queued earlier has settled; resolves with its result. */
  run<T>(job: () => T | Promise<T>): Promise<T> {
    return this.#queue.run(null, job);
  }

  /** Whether a job is queued or running. */
  get busy(): boolean {
    return this.#queue.busyKeys > 0;
  }
}
