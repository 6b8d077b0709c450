/**
 * The durable event log writer: appends bus events to the store in batches
 * (group commit: what `write` queues within `flushMs` of the first event, or
 * 1 000 events, go as one write), because one insert per transaction is 4×
 * slower than batches (measured on the embedded store), and on Redis each
 * write is also one stream entry and one message for the other processes.
 * While events keep coming, a write is followed by the next one `flushMs`
 * later, not as soon as it is stored: the embedded store would otherwise
 * write the log's last pages (and those of its indexes) again at each of its
 * commits. `append` is written on the next macrotask, with whatever waits,
 * and resolves once its batch is stored, so `POST /un/events/publish`
 * answers only for logged events; `flush` writes everything without pausing.
 *
 * When the store refuses writes (an UnavailableError: Redis is away, or out
 * of memory), events wait in this process and are written, in order, once it
 * takes them again (retries back off from `retryBaseMs` to `retryMaxMs`):
 * - events of work already accepted ({@link isAcceptedWork}: `task.*`,
 *   `batch.*`, `store.*`) are never dropped. They need no bound of their own:
 *   each reports a task change the store has already recorded, and a store
 *   that refuses writes records next to none (no claim is tried then; a sweep
 *   moves each waiting task at most once), so they are those of the changes
 *   recorded just before: a few per task this process was handling.
 * - any other event (a source's, a publish) counts against `bufferMax`. A
 *   publish (`append`) resolves once its event is in the buffer and is
 *   refused (503) when the buffer is full, or at once while Redis is out of
 *   memory (better a retry later than events piling up in this process while
 *   Redis has no room); `write` drops the event when the buffer is full,
 *   counted in {@link EventLog.dropped} and reported once per outage: never
 *   silently.
 * Any other write error is not worth a retry: the batch is reported to
 * `onError` and dropped, so one bad batch cannot block the log.
 */

import { OutOfMemoryError, UnavailableError } from "../errors.ts";
import { backoffMs } from "../backoff.ts";
import type { CloudEvent } from "./cloud-event.ts";
import type { Store } from "../store/types.ts";

const MAX_BATCH = 1_000;

/**
 * True for events of work the runtime already accepted (a task's changes, a
 * batch's end, the store's own faults): the event log never drops them.
 * Asked of every event, so prefix tests rather than a regular expression.
 */
export function isAcceptedWork(type: string): boolean {
  return type.startsWith("task.") || type.startsWith("batch.") || type.startsWith("store.");
}

/**
 * What an {@link EventLog} reports about outages, once each:
 * - `buffering`: a write failed because the store is unreachable; events are
 *   kept (`waiting`) and retried;
 * - `dropping`: the buffer is full; events that are not of accepted work are
 *   dropped until it drains;
 * - `flushed`: the store is back and the buffer is written (`written` events,
 *   `dropped` during the outage, after `outageMs`);
 * - `lost`: at close the store was still unreachable; `count` buffered events
 *   were never written.
 */
export type EventLogStatus =
  | { kind: "buffering"; waiting: number; error: unknown }
  | { kind: "dropping"; bufferMax: number }
  | { kind: "flushed"; written: number; dropped: number; outageMs: number }
  | { kind: "lost"; count: number; error: unknown };

/**
 * Options of an {@link EventLog}.
 */
export interface EventLogOptions {
  /** Most events not of accepted work kept while the store refuses writes (default 10 000). */
  bufferMax?: number;
  /** First retry delay after a failed write (default 100 ms); doubles up to `retryMaxMs`. */
  retryBaseMs?: number;
  /** Longest retry delay (default 1 000 ms), so the log catches up within a second of the store. */
  retryMaxMs?: number;
  /** How long a `write` may wait for more events before the batch goes (default 0: next macrotask). */
  flushMs?: number;
  /** Outage reports (see {@link EventLogStatus}). */
  onStatus?: (status: EventLogStatus) => void;
}

interface Entry {
  event: CloudEvent;
  waiter: { resolve: () => void; reject: (e: unknown) => void } | null;
  /** Of accepted work: never dropped, not counted against `bufferMax`. */
  kept: boolean;
}

interface Outage {
  since: number;
  attempts: number;
  error: unknown;
  written: number;
  dropped: number;
}

/**
 * Batches appends to the store's event log, and buffers them while the store
 * is unreachable.
 *
 * @example
 * ```ts
 * const log = new EventLog(store, (err) => console.error(err), { bufferMax: 10_000 });
 * await log.append(event); // stored (or buffered while the store is away)
 * await log.close(); // writes what it can, reports the rest
 * ```
 */
export class EventLog {
  /** Events not yet stored, oldest first. */
  #queue: Entry[] = [];
  /** Entries of {@link #queue} that count against `bufferMax`. */
  #bounded = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #writing = false;
  #outage: Outage | null = null;
  #dropped = 0;
  #idle: Array<() => void> = [];
  readonly #bufferMax: number;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  readonly #flushMs: number;
  /** The pending flush timer was set for a waiting `append` (no group-commit delay). */
  #urgent = false;
  /** An `append` waits for an event still queued: the next batch goes at once. */
  #urgentQueued = false;
  /** `flush` calls under way: the writes go on until the queue is empty. */
  #draining = 0;
  readonly #onStatus: (status: EventLogStatus) => void;

  constructor(
    private readonly store: Store,
    private readonly onError: (error: unknown, count: number) => void,
    options: EventLogOptions = {},
  ) {
    this.#bufferMax = options.bufferMax ?? 10_000;
    this.#retryBaseMs = options.retryBaseMs ?? 100;
    this.#retryMaxMs = options.retryMaxMs ?? 1_000;
    this.#flushMs = options.flushMs ?? 0;
    this.#onStatus = options.onStatus ?? (() => {});
  }

  /**
   * Queues a published event; the promise settles when its batch is written,
   * or, while the store is unreachable, once the event is in the buffer.
   * Rejects with an UnavailableError (503) when the buffer is full or Redis
   * is out of memory.
   */
  append(event: CloudEvent): Promise<void> {
    const outage = this.#outage;
    if (outage?.error instanceof OutOfMemoryError) return Promise.reject(outage.error);
    if (this.#full()) {
      const waiting = this.#bounded;
      return Promise.reject(
        new UnavailableError(
          `event buffer full (${waiting} events waiting for the store); ` +
            "try again when /health is ok",
          { waiting, bufferMax: this.#bufferMax },
        ),
      );
    }
    if (outage) {
      this.#push({ event, waiter: null, kept: isAcceptedWork(event.type) });
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.#push({ event, waiter: { resolve, reject }, kept: isAcceptedWork(event.type) });
      this.#urgentQueued = true;
      this.#schedule(true);
    });
  }

  /**
   * Queues an event without waiting for it. Returns false when the buffer is
   * full and the event was dropped (counted and reported, see the class
   * docs); an event of accepted work is never dropped.
   */
  write(event: CloudEvent): boolean {
    const kept = isAcceptedWork(event.type);
    if (!kept && this.#full()) {
      this.#drop();
      return false;
    }
    this.#push({ event, waiter: null, kept });
    this.#schedule(false);
    return true;
  }

  /**
   * Writes whatever is waiting now (also a buffer kept for an unreachable
   * store: one more try at once) and resolves when that attempt ends.
   */
  async flush(): Promise<void> {
    if (this.#retryTimer !== null) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
    }
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#draining++;
    try {
      if (!this.#writing) void this.#pump();
      if (this.#writing) await new Promise<void>((resolve) => this.#idle.push(resolve));
    } finally {
      this.#draining--;
    }
  }

  /**
   * Flushes, then gives up on what the store would still not take (reported
   * as `lost`), so a shutdown during an outage ends. Resolves with the number
   * of events lost.
   */
  async close(): Promise<number> {
    await this.flush();
    const count = this.#queue.length;
    if (count > 0) {
      if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
      const error = this.#outage?.error ?? new Error("the store did not take the events");
      for (const entry of this.#queue) entry.waiter?.reject(error);
      this.#queue = [];
      this.#bounded = 0;
      this.#onStatus({ kind: "lost", count, error });
    }
    return count;
  }

  /** Events waiting to be written (in the buffer while the store is unreachable). */
  get pending(): number {
    return this.#queue.length;
  }

  /** Events dropped because the buffer was full, since the start. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Epoch ms since which the store has refused writes, or null while they succeed. */
  get failingSince(): number | null {
    return this.#outage?.since ?? null;
  }

  #full(): boolean {
    // The bound applies while the store is away: with the store up the queue
    // drains every macrotask, and a burst (a first scan) must not be cut.
    return this.#outage !== null && this.#bounded >= this.#bufferMax;
  }

  #push(entry: Entry): void {
    this.#queue.push(entry);
    if (!entry.kept) this.#bounded++;
  }

  /** Takes the first `count` entries off the queue. */
  #shift(count: number): Entry[] {
    const taken = this.#queue.splice(0, count);
    for (const entry of taken) if (!entry.kept) this.#bounded--;
    return taken;
  }

  #drop(): void {
    this.#dropped++;
    const outage = this.#outage!;
    if (outage.dropped++ === 0) this.#onStatus({ kind: "dropping", bufferMax: this.#bufferMax });
  }

  /** `urgent`: someone waits for this event (a publish), so no group-commit delay. */
  #schedule(urgent: boolean): void {
    // While writing, the loop takes new events next; during an outage the
    // retry timer does.
    if (this.#writing || this.#retryTimer !== null) return;
    if (this.#queue.length >= MAX_BATCH || (urgent && this.#timer !== null && !this.#urgent)) {
      if (this.#timer !== null) clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#queue.length >= MAX_BATCH) {
      void this.#pump();
    } else if (this.#timer === null) {
      this.#urgent = urgent;
      this.#timer = setTimeout(() => {
        this.#timer = null;
        void this.#pump();
      }, urgent ? 0 : this.#flushMs);
    }
  }

  /** Writes batches, in order, until the queue is empty or the store is unreachable. */
  async #pump(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.slice(0, MAX_BATCH);
        if (batch.length === this.#queue.length) this.#urgentQueued = false;
        try {
          await this.store.appendEvents(batch.map((entry) => entry.event));
        } catch (error) {
          if (error instanceof UnavailableError) {
            this.#keep(error);
            return;
          }
          this.#shift(batch.length);
          this.onError(error, batch.length);
          batch.forEach((entry) => entry.waiter?.reject(error));
          continue;
        }
        this.#shift(batch.length);
        batch.forEach((entry) => entry.waiter?.resolve());
        if (this.#outage) this.#outage.written += batch.length;
        if (this.#pauses()) break;
      }
      this.#recovered();
    } finally {
      this.#writing = false;
      const idle = this.#idle;
      this.#idle = [];
      idle.forEach((resolve) => resolve());
      // What came in during the last write goes `flushMs` later (at once for an `append`).
      if (this.#queue.length > 0 && this.#retryTimer === null) this.#schedule(this.#urgentQueued);
    }
  }

  /** True when the next batch should wait for more events (see the module docs). */
  #pauses(): boolean {
    return this.#flushMs > 0 && this.#draining === 0 && !this.#urgentQueued &&
      this.#queue.length > 0 && this.#queue.length < MAX_BATCH;
  }

  /** A write failed for want of the store: keep everything queued and retry later. */
  #keep(error: unknown): void {
    if (this.#outage === null) {
      this.#outage = { since: Date.now(), attempts: 0, error, written: 0, dropped: 0 };
      this.#onStatus({ kind: "buffering", waiting: this.#queue.length, error });
    }
    const outage = this.#outage;
    outage.error = error;
    if (error instanceof OutOfMemoryError) {
      // Redis has no room: publishers still waiting are refused (503) and
      // their events leave the queue; the rest waits for Redis.
      const waiting = this.#queue.filter((entry) => entry.waiter !== null);
      this.#queue = this.#queue.filter((entry) => entry.waiter === null);
      this.#bounded -= waiting.filter((entry) => !entry.kept).length;
      waiting.forEach((entry) => entry.waiter!.reject(error));
    }
    // Publishers waiting for this write get their answer now: in the buffer.
    for (const entry of this.#queue) {
      entry.waiter?.resolve();
      entry.waiter = null;
    }
    const delay = backoffMs(++outage.attempts, {
      baseMs: this.#retryBaseMs,
      maxMs: this.#retryMaxMs,
    });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.#pump();
    }, delay);
  }

  #recovered(): void {
    const outage = this.#outage;
    if (outage === null) return;
    this.#outage = null;
    this.#onStatus({
      kind: "flushed",
      written: outage.written,
      dropped: outage.dropped,
      outageMs: Date.now() - outage.since,
    });
  }
}
