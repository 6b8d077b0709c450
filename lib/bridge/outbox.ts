/**
 * The outbound side of the bridge: every event this process makes is appended
 * to the stream (`XADD ... MAXLEN ~ n`) and published on its type's channel,
 * in pipelined batches (events come in bursts). While Redis is away the
 * events wait in a bounded buffer and go out when it is back; if the buffer
 * overflows, the oldest are dropped and the count is logged, never silently.
 */

import type { Redis } from "ioredis";
import type { CloudEvent } from "../events.ts";
import type { Logger } from "../log.ts";
import type { BridgeKeys } from "./keys.ts";
import { Backoff } from "./timing.ts";
import { encodeBroadcast, encodeEvent, EVENT_FIELD } from "./wire.ts";

/** Events per pipeline: big enough for bursts, small enough to keep Redis responsive. */
const BATCH = 500;

/**
 * Options of an {@link Outbox}.
 *
 * @example
 * ```ts
 * const options: OutboxOptions = { keys, maxLen: 100_000, max: 10_000, log, onWrite: () => {} };
 * ```
 */
export interface OutboxOptions {
  keys: BridgeKeys;
  /** `MAXLEN ~` of the stream. */
  maxLen: number;
  /** Events held while Redis is unreachable. */
  max: number;
  log: Logger;
  /** Told after each batch whether Redis took it (the link reports up/down from it). */
  onWrite(ok: boolean, error?: unknown): void;
}

/**
 * Buffers events and writes them to Redis whenever a connection is attached.
 *
 * @example
 * ```ts
 * const outbox = new Outbox({ keys, maxLen: 100_000, max: 10_000, log, onWrite: () => {} });
 * outbox.push(event); // held until attach()
 * outbox.attach(writer); // written now
 * await outbox.flush();
 * ```
 */
export class Outbox {
  #queue: CloudEvent[] = [];
  #inflight = 0;
  #redis: Redis | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running: Promise<void> | null = null;
  #closed = false;
  #dropped = 0;
  /** Failed writes since the last success (0 = Redis takes our events). */
  #failures = 0;
  readonly #backoff = new Backoff();

  constructor(private readonly options: OutboxOptions) {}

  /** Queues an event; it is written on the next macrotask with whatever else came meanwhile. */
  push(event: CloudEvent): void {
    if (this.#closed) return;
    this.#queue.push(event);
    this.#bound();
    this.#schedule(0);
  }

  /** Writes through `redis` from now on (it is connected and the consumer group exists). */
  attach(redis: Redis): void {
    this.#redis = redis;
    // A fresh connection: write now rather than after the last failure's backoff.
    this.#backoff.reset();
    this.#clearTimer();
    this.#schedule(0);
  }

  /** Stops writing (the connection is gone); events wait for the next {@link attach}. */
  detach(): void {
    this.#redis = null;
  }

  /** Writes what is queued now (if a connection is attached) and waits for it. */
  async flush(): Promise<void> {
    this.#clearTimer();
    await this.#run();
  }

  /** Stops taking and writing events (after a last {@link flush}). */
  close(): void {
    this.#closed = true;
    this.#redis = null;
    this.#clearTimer();
  }

  /** Events waiting or being written. */
  get size(): number {
    return this.#queue.length + this.#inflight;
  }

  #schedule(ms: number): void {
    if (this.#closed || this.#timer !== null || this.#running || !this.#redis) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#run();
    }, ms);
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** One writer at a time, so events reach the stream in the order they were made. */
  #run(): Promise<void> {
    this.#running ??= this.#drain().finally(() => {
      this.#running = null;
      if (this.#queue.length) this.#schedule(0);
    });
    return this.#running;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length && this.#redis) {
      const batch = this.#queue.splice(0, BATCH);
      this.#inflight = batch.length;
      const { failed, error } = await this.#write(this.#redis, batch);
      this.#inflight = 0;
      if (failed.length === 0) {
        this.#recovered();
        this.options.onWrite(true);
        continue;
      }
      // Failed events go back in front, in order; a retry may repeat an event
      // whose reply was lost, which both readers deduplicate by event id.
      this.#queue.unshift(...failed);
      this.#bound();
      this.options.onWrite(false, error);
      const wait = this.#backoff.next();
      if (++this.#failures === 1) {
        this.options.log.warn("cannot write events to redis; holding them and retrying", {
          held: this.#queue.length,
          error,
        });
      }
      this.#clearTimer();
      if (!this.#closed) {
        this.#timer = setTimeout(() => {
          this.#timer = null;
          void this.#run();
        }, wait);
      }
      return;
    }
  }

  async #write(
    redis: Redis,
    batch: CloudEvent[],
  ): Promise<{ failed: CloudEvent[]; error?: unknown }> {
    const { keys, maxLen } = this.options;
    const pipeline = redis.pipeline();
    for (const event of batch) {
      const json = encodeEvent(event);
      pipeline.xadd(keys.stream, "MAXLEN", "~", maxLen, "*", EVENT_FIELD, json);
      pipeline.publish(keys.channel(event.type), encodeBroadcast(event.origin, json));
    }
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (error) {
      return { failed: batch, error };
    }
    if (!results) return { failed: batch, error: new Error("pipeline gave no replies") };
    let error: unknown;
    const failed = batch.filter((_, i) => {
      const bad = results[2 * i]?.[0] ?? results[2 * i + 1]?.[0] ?? null;
      error ??= bad ?? undefined;
      return bad !== null;
    });
    return { failed, error };
  }

  /** Keeps the buffer within `max`, dropping the oldest (they are in the event log already). */
  #bound(): void {
    const over = this.#queue.length + this.#inflight - this.options.max;
    if (over <= 0) return;
    const dropped = this.#queue.splice(0, Math.min(over, this.#queue.length));
    if (this.#dropped === 0) {
      this.options.log.error(
        "redis outbound buffer full: dropping the oldest events (other processes will not see them, nor run their hooks)",
        { max: this.options.max, first: dropped[0]?.id },
      );
    }
    this.#dropped += dropped.length;
  }

  #recovered(): void {
    this.#backoff.reset();
    if (this.#failures === 0 && this.#dropped === 0) return;
    this.options.log.info("events reach redis again", {
      afterFailures: this.#failures,
      dropped: this.#dropped,
    });
    this.#failures = 0;
    this.#dropped = 0;
  }
}
