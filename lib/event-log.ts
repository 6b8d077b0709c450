/**
 * The durable event log writer: appends bus events to the store in batches
 * (one write per macrotask, or per 1 000 events), because one insert per
 * transaction is 4× slower than batches (PLATFORM.md). `append` resolves once
 * the event's batch is stored, so `POST /un/events/publish` answers only for
 * logged events.
 */

import type { CloudEvent } from "./events.ts";
import type { Store } from "./store/types.ts";

const MAX_BATCH = 1_000;

/**
 * Batches appends to the store's event log.
 *
 * @example
 * ```ts
 * const log = new EventLog(store, (err) => console.error(err));
 * await log.append(event); // stored
 * await log.flush();
 * ```
 */
export class EventLog {
  #pending: CloudEvent[] = [];
  #waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #inflight: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly onError: (error: unknown, count: number) => void,
  ) {}

  /** Queues an event; the promise settles when its batch is written. */
  append(event: CloudEvent): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    this.write(event);
    return done;
  }

  /** Queues an event without waiting for it (write failures are reported to `onError`). */
  write(event: CloudEvent): void {
    this.#pending.push(event);
    if (this.#pending.length >= MAX_BATCH) this.#write();
    else if (this.#timer === null) this.#timer = setTimeout(() => this.#write(), 0);
  }

  /** Writes whatever is pending and waits for every write in flight. */
  async flush(): Promise<void> {
    this.#write();
    await this.#inflight;
  }

  /** Events waiting to be written. */
  get pending(): number {
    return this.#pending.length;
  }

  #write(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    const waiters = this.#waiters;
    this.#pending = [];
    this.#waiters = [];
    // Writes stay in order: each batch waits for the previous one.
    this.#inflight = this.#inflight.then(() =>
      this.store.appendEvents(batch).then(
        () => waiters.forEach((w) => w.resolve()),
        (err) => {
          this.onError(err, batch.length);
          waiters.forEach((w) => w.reject(err));
        },
      )
    );
  }
}
