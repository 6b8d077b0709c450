/**
 * The bridge's Redis connections. It needs three, because a connection in
 * subscriber mode or blocked in `XREADGROUP` can do nothing else: one for
 * writes (outbound batches, markers, acks, reclaims), one subscriber, one
 * blocking reader. All reconnect on their own, forever.
 */

import { Redis } from "ioredis";
import { LOADING_RECHECK_MS, RECONNECT_MAX_MS } from "../connection.ts";

/**
 * What a connection is for; it decides how commands behave while Redis is away.
 */
export type ConnectionUse = "writer" | "reader" | "subscriber";

/**
 * Opens (in the background) a connection for one use.
 */
export function openConnection(url: string, use: ConnectionUse): Redis {
  const redis = new Redis(url, {
    connectionName: `un-bridge-${use}`,
    // Reads and acks fail fast while disconnected: the loops back off (events
    // wait in the event log's buffer meanwhile). The subscription waits for the connection instead.
    enableOfflineQueue: use === "subscriber",
    maxRetriesPerRequest: use === "subscriber" ? null : 1,
    // Batches are pipelined explicitly (markers and acks).
    enableAutoPipelining: false,
    // Reconnect and resume as fast as the store's own client does after a Redis
    // restart (see lib/store/redis/connection.ts).
    retryStrategy: (attempt) => attempt <= 10 ? 100 : RECONNECT_MAX_MS,
    maxLoadingRetryTime: LOADING_RECHECK_MS,
  });
  // ioredis reconnects by itself; without a listener it logs every failed attempt.
  redis.on("error", () => {});
  return redis;
}

/**
 * Resolves once `redis` is connected, or at once when `signal` aborts.
 */
export function whenReady(redis: Redis, signal: AbortSignal): Promise<void> {
  if (redis.status === "ready" || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      redis.off("ready", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    redis.once("ready", done);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Closes a connection politely (`QUIT`, so pending replies arrive first) when
 * it is up, else at once; never waits longer than `timeoutMs`.
 */
export async function closeConnection(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      redis.quit().catch(() => {}),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }
  // After QUIT this only stops the reconnect logic; before, it drops the socket.
  redis.disconnect();
}
