/**
 * The hooks consumer: reads the event stream through the consumer group
 * (`XREADGROUP ... BLOCK` on a connection of its own, since a blocked
 * connection can do nothing else), applies each entry's hooks once
 * cluster-wide ({@link applyEntries}), and every `reclaimMs` takes over
 * entries another consumer read but never acknowledged for `minIdleMs`
 * (`XAUTOCLAIM`: it died between read and ack). Failures never escape: the
 * loops back off and retry while Redis is away.
 */

import type { Redis } from "ioredis";
import type { Logger } from "../../../log.ts";
import { type ApplyContext, applyEntries } from "./apply.ts";
import { whenReady } from "./connections.ts";
import type { BridgeKeys } from "./keys.ts";
import { Backoff, delay } from "./timing.ts";
import { autoClaimReply, readGroupEntries, type StreamEntry } from "./wire.ts";

/** Entries per read or reclaim page. */
const COUNT = 100;
/** How long one blocking read waits for new entries before it is issued again. */
const BLOCK_MS = 5_000;
/** Reclaim pages per round, so one round cannot run unbounded. */
const MAX_PAGES = 20;
/** Consumers idle this long with nothing pending are removed from the group (dead processes). */
const PRUNE_IDLE_MS = 3_600_000;
/** How often the group is checked for such consumers. */
const PRUNE_EVERY_MS = 60_000;

/**
 * Creates the consumer group at the stream's end (and the stream) unless it
 * exists. Every bridge does this when it connects; the event log's append
 * does the same before it makes the stream, so no event is appended before
 * the group that must apply its hooks exists.
 */
export async function ensureGroup(redis: Redis, keys: BridgeKeys): Promise<void> {
  try {
    await redis.xgroup("CREATE", keys.stream, keys.group, "$", "MKSTREAM");
  } catch (error) {
    if (!String((error as Error)?.message).startsWith("BUSYGROUP")) throw error;
  }
}

/**
 * Options of a {@link HookConsumer}.
 */
export interface HookConsumerOptions {
  /** The connection that blocks in `XREADGROUP`; nothing else uses it. */
  reader: Redis;
  /** Where entries are applied (its `redis` is the non-blocking connection for reclaims and acks). */
  apply: ApplyContext;
  reclaimMs: number;
  minIdleMs: number;
  /** Test fault `no-ack`: read entries and drop them (neither apply nor acknowledge), as a consumer that died. */
  drop: boolean;
  /** Aborts when the bridge stops. */
  signal: AbortSignal;
}

/**
 * Consumes the stream for hooks until the signal aborts.
 *
 * @example
 * ```ts
 * const consumer = new HookConsumer({ reader, apply: ctx, reclaimMs: 5_000, minIdleMs: 30_000, drop: false, signal });
 * consumer.start();
 * ```
 */
export class HookConsumer {
  readonly #log: Logger;
  #nextPruneAt = Date.now() + PRUNE_EVERY_MS;
  /** Entries being applied, so a stop can wait for them. */
  #busy = new Set<Promise<unknown>>();

  constructor(private readonly options: HookConsumerOptions) {
    this.#log = options.apply.log;
  }

  /** Starts the read loop and the reclaim loop. */
  start(): void {
    void this.#readLoop();
    void this.#reclaimLoop();
  }

  /** Resolves when the batches being applied now are done. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#busy]);
  }

  async #readLoop(): Promise<void> {
    const { reader, apply, signal } = this.options;
    const { keys, consumer } = apply;
    const backoff = new Backoff();
    while (!signal.aborted) {
      // While Redis is away, wait for the reconnect instead of failing read after read.
      await whenReady(reader, signal);
      if (signal.aborted) break;
      try {
        // A process without hooks has nothing to apply: it takes its share of
        // entries as acknowledged (NOACK), with no XACK round trip.
        const idle = !apply.hooks.any() && !this.options.drop;
        // As Buffers: an entry no hook wants is acknowledged without its
        // events ever being decoded (most entries, as most events are task.*).
        const reply = await reader.callBuffer(
          "XREADGROUP",
          "GROUP",
          keys.group,
          consumer,
          "COUNT",
          COUNT,
          "BLOCK",
          BLOCK_MS,
          ...(idle ? ["NOACK"] : []),
          "STREAMS",
          keys.stream,
          ">",
        );
        // A hook added while that read waited (the first of this process) still
        // gets the entries it brought, which NOACK took off the group's books.
        if (!idle || apply.hooks.any()) await this.#process(readGroupEntries(reply));
        if (backoff.failures) this.#log.info("reading the event stream again");
        backoff.reset();
      } catch (error) {
        if (signal.aborted) break;
        const wait = await this.#failed(
          "reading the event stream failed; retrying",
          error,
          backoff,
        );
        await delay(wait, signal);
      }
    }
  }

  async #reclaimLoop(): Promise<void> {
    const { reclaimMs, signal } = this.options;
    const backoff = new Backoff(reclaimMs, Math.max(reclaimMs, 30_000));
    let wait = reclaimMs;
    while (!signal.aborted) {
      await delay(wait, signal);
      if (signal.aborted) break;
      // The writer's reconnect is reported by the link; a round without it would only fail.
      if (this.options.apply.redis.status !== "ready") continue;
      try {
        await this.#reclaim();
        await this.#prune();
        backoff.reset();
        wait = reclaimMs;
      } catch (error) {
        if (signal.aborted) break;
        wait = await this.#failed("reclaiming stream entries failed; retrying", error, backoff);
      }
    }
  }

  /** One round of `XAUTOCLAIM` over every entry idle longer than `minIdleMs`. */
  async #reclaim(): Promise<void> {
    const { apply, minIdleMs, signal } = this.options;
    const { redis, keys, consumer } = apply;
    let start = "0-0";
    let reclaimed = 0;
    for (let page = 0; page < MAX_PAGES && !signal.aborted; page++) {
      const reply = await redis.callBuffer(
        "XAUTOCLAIM",
        keys.stream,
        keys.group,
        consumer,
        minIdleMs,
        start,
        "COUNT",
        COUNT,
      );
      const { next, entries } = autoClaimReply(reply);
      reclaimed += entries.length;
      await this.#process(entries);
      if (next === "0-0") break;
      start = next;
    }
    if (reclaimed && !this.options.drop) {
      this.#log.info("took over stream entries another consumer left unacknowledged", {
        entries: reclaimed,
        minIdleMs,
      });
    }
  }

  /** Removes consumers of dead processes (nothing pending, idle for an hour) from the group. */
  async #prune(): Promise<void> {
    if (Date.now() < this.#nextPruneAt) return;
    this.#nextPruneAt = Date.now() + PRUNE_EVERY_MS;
    const { redis, keys, consumer } = this.options.apply;
    const reply = await redis.xinfo("CONSUMERS", keys.stream, keys.group) as unknown[];
    for (const raw of reply) {
      const info = fieldsOf(raw);
      const name = String(info.name);
      if (name === consumer || Number(info.pending) > 0) continue;
      if (Number(info.idle) < PRUNE_IDLE_MS) continue;
      await redis.xgroup("DELCONSUMER", keys.stream, keys.group, name);
    }
  }

  async #process(entries: StreamEntry[]): Promise<void> {
    if (entries.length === 0 || this.options.drop) return;
    const work = applyEntries(this.options.apply, entries);
    this.#busy.add(work);
    try {
      await work;
    } finally {
      this.#busy.delete(work);
    }
  }

  /** Logs the first failure of a run at warn; resolves with how long to wait before the next try. */
  async #failed(message: string, error: unknown, backoff: Backoff): Promise<number> {
    const { apply } = this.options;
    if (/NOGROUP/.test(String((error as Error)?.message))) {
      // The group went away (Redis restarted without persistence, or the stream was deleted).
      await ensureGroup(apply.redis, apply.keys).catch(() => {});
    }
    if (backoff.failures === 0) this.#log.warn(message, { error });
    return backoff.next();
  }
}

/** `[name, value, ...]` as `XINFO` replies. */
function fieldsOf(raw: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(raw)) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i])] = raw[i + 1];
  return out;
}
