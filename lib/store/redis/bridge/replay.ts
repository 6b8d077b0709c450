/**
 * Catching up from the event log. Pub/sub keeps nothing for a subscriber that
 * is away, but the event log (the stream) keeps every event: once subscribed
 * again, a process reads the log from shortly before the moment it lost the
 * connection and delivers what it follows and has not delivered yet, so a
 * Redis restart or a dropped connection loses no event for its subscribers
 * (SSE streams, cancels, source changes). A new subscription reads it from the
 * moment it was asked for, for what publishers sent before they knew of it.
 */

import type { Redis } from "ioredis";
import type { CloudEvent } from "../../../events/cloud-event.ts";
import { decodeEvents, mayHold, readStream, timeReplyMs } from "./wire.ts";

/** Entries read per round trip. */
const PAGE = 200;
/**
 * How long before the loss the read starts: messages in flight when the
 * connection dropped were lost too. Events delivered already are skipped.
 */
export const REPLAY_LEAD_MS = 5_000;

/**
 * Options of {@link replayLog}.
 */
export interface ReplayOptions {
  /** A connection not in subscriber mode. */
  redis: Redis;
  /** The event log's stream. */
  stream: string;
  /** When (this process's clock, ms) the subscriber connection was lost. */
  lostAt: number;
  /**
   * How long before `lostAt` to start (default {@link REPLAY_LEAD_MS}); 0 when
   * nothing can have been in flight before it (a new subscription).
   */
  leadMs?: number;
  /** Whether events of this type are followed. */
  wants(type: string): boolean;
  /** Delivers one event unless it is the process's own or was delivered already; true when delivered. */
  take(event: CloudEvent): boolean;
}

/**
 * Reads the log from `leadMs` before `lostAt` to its end and
 * hands every event of a followed type to `take`; resolves with how many it delivered.
 * The stream's ids hold Redis's clock, so the loss is placed on that clock by
 * its age (`TIME` now, less the time since the loss), whatever the skew
 * between this machine and Redis.
 */
export async function replayLog(options: ReplayOptions): Promise<number> {
  const { redis } = options;
  const redisNow = timeReplyMs(await redis.time());
  // The reply's trip makes `from` a little early, never late.
  const from = redisNow - (Date.now() - options.lostAt) - (options.leadMs ?? REPLAY_LEAD_MS);
  return await replayFrom(options, String(Math.max(0, from)));
}

async function replayFrom(options: ReplayOptions, start: string): Promise<number> {
  const { redis, stream, wants, take } = options;
  let taken = 0;
  for await (const page of readStream(redis, stream, start, PAGE)) {
    for (const entry of page) {
      if (!mayHold(entry, wants)) continue;
      for (const event of decodeEvents(entry.payload!)) {
        if (wants(event.type) && take(event)) taken++;
      }
    }
  }
  return taken;
}
