/**
 * Catching up after the subscriber connection was lost. Pub/sub keeps
 * nothing for a subscriber that is away, but the event log (the stream) keeps
 * every event: once subscribed again, a process reads the log from shortly
 * before the moment it lost the connection and delivers what it follows and
 * has not delivered yet, so a Redis restart or a dropped connection loses no
 * event for its subscribers (SSE streams, cancels, source changes).
 */

import type { Redis } from "ioredis";
import type { CloudEvent } from "../events.ts";
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
 *
 * @example
 * ```ts
 * const options: ReplayOptions = {
 *   redis: writer, stream: "un:events:stream", lostAt: Date.now() - 800,
 *   wants: (type) => type.startsWith("deploy."), take: (event) => seen.firstTime(event.id, Date.now()),
 * };
 * ```
 */
export interface ReplayOptions {
  /** A connection not in subscriber mode. */
  redis: Redis;
  /** The event log's stream. */
  stream: string;
  /** When (this process's clock, ms) the subscriber connection was lost. */
  lostAt: number;
  /** Whether events of this type are followed. */
  wants(type: string): boolean;
  /** Delivers one event unless it is the process's own or was delivered already; true when delivered. */
  take(event: CloudEvent): boolean;
}

/**
 * Reads the log from {@link REPLAY_LEAD_MS} before `lostAt` to its end and
 * hands every event of a followed type to `take`; resolves with how many it delivered.
 * The stream's ids hold Redis's clock, so the loss is placed on that clock by
 * its age (`TIME` now, less the time since the loss), whatever the skew
 * between this machine and Redis.
 *
 * @example
 * ```ts
 * const replayed = await replayLog({ redis: writer, stream, lostAt, wants, take: deliver });
 * ```
 */
export async function replayLog(options: ReplayOptions): Promise<number> {
  const { redis } = options;
  const redisNow = timeReplyMs(await redis.time());
  const from = redisNow - (Date.now() - options.lostAt) - REPLAY_LEAD_MS;
  return await replayFrom(options, String(Math.max(0, from)));
}

/**
 * Like {@link replayLog}, from the entry after `after` (a stream entry id,
 * as {@link lastEntryId} gave it) to the log's end.
 *
 * @example
 * ```ts
 * const after = await lastEntryId(writer, stream);
 * // ... subscribe, then later:
 * await replayAfter({ redis: writer, stream, wants, take: deliver }, after);
 * ```
 */
export function replayAfter(
  options: Omit<ReplayOptions, "lostAt">,
  after: string,
): Promise<number> {
  return replayFrom(options, `(${after}`);
}

/**
 * The id of the log's newest entry (`0-0` when it is empty).
 *
 * @example
 * ```ts
 * const after = await lastEntryId(writer, "un:events:stream"); // "1796169949042-0"
 * ```
 */
export async function lastEntryId(redis: Redis, stream: string): Promise<string> {
  const newest = await redis.xrevrange(stream, "+", "-", "COUNT", 1);
  return newest[0]?.[0] ?? "0-0";
}

async function replayFrom(options: Omit<ReplayOptions, "lostAt">, start: string): Promise<number> {
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
