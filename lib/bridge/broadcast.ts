/**
 * Live delivery: a process hears the other processes' events of the types it
 * follows on pub/sub (`PSUBSCRIBE <prefix>events:<pattern>`) and hands them to
 * its local bus, so SSE streams, a cancel's abort of a local worker and
 * `source.*` reactions work across processes. An event is never handed back
 * to the process that made it (`origin`), and an event published twice is
 * delivered once.
 */

import type { Redis } from "ioredis";
import type { CloudEvent } from "../events.ts";
import type { Logger } from "../log.ts";
import type { BridgeKeys } from "./keys.ts";
import type { SeenIds } from "./seen.ts";
import { decodeBroadcast, isFrom } from "./wire.ts";

/**
 * What this process follows of other processes' events.
 *
 * @example
 * ```ts
 * const following: Following = {
 *   wants: (type) => bus.wantsRemote(type),
 *   patterns: () => bus.remotePatterns(),
 *   onChange: (fn) => bus.onRemoteInterest(fn),
 * };
 * ```
 */
export interface Following {
  /** False when no local subscriber wants events of this type: their messages are not parsed. */
  wants(type: string): boolean;
  /** The event-type patterns followed: which channels to subscribe to. */
  patterns(): string[];
  /** Calls `fn` when the patterns may have changed (it resolves once the change is in effect); returns how to stop. */
  onChange(fn: () => Promise<void>): () => void;
}

/**
 * Options of {@link listen}.
 *
 * @example
 * ```ts
 * const options: ListenOptions = {
 *   keys, self: PROCESS_ID, seen: new SeenIds(600_000, 100_000), log, following, deliver,
 * };
 * ```
 */
export interface ListenOptions {
  keys: BridgeKeys;
  /** This process's id: events whose `origin` it is are skipped. */
  self: string;
  seen: SeenIds;
  log: Logger;
  following: Following;
  /** Hands another process's event to the local bus. */
  deliver(event: CloudEvent): void;
}

/**
 * Subscribes `sub` (a connection in subscriber mode, used for nothing else)
 * to the channels of the event types this process follows, and keeps the
 * subscriptions in step as local subscribers come and go (an SSE stream opens,
 * closes), so Redis sends a process only what it wants: no process hears the
 * others' task lifecycle unless something of its own follows it. ioredis
 * subscribes again by itself after a reconnect; events published while
 * disconnected are not replayed (their hooks still run: the stream keeps them).
 * Returns how to stop following changes.
 *
 * @example
 * ```ts
 * const stop = listen(sub, {
 *   keys, self: PROCESS_ID, seen, log, following, deliver: (e) => bus.publishRemote(e),
 * });
 * ```
 */
export function listen(sub: Redis, options: ListenOptions): () => void {
  const { keys, self, seen, log, following, deliver } = options;
  /** Redis patterns subscribed (or being subscribed) now. */
  const subscribed = new Set<string>();
  sub.on("pmessage", (pattern: string, channel: string, message: string) => {
    if (!subscribed.has(pattern) || !channel.startsWith(keys.channels)) return;
    // Our own events come back to us when we follow their type: dropped
    // before any parsing, as are types only a wider Redis pattern caught.
    if (isFrom(message, self) || !following.wants(channel.slice(keys.channels.length))) return;
    const events = decodeBroadcast(message);
    if (events.length === 0) {
      log.warn("unreadable event on a bridge channel; ignored", { channel });
      return;
    }
    const now = Date.now();
    for (const event of events) {
      // A longer prefix of another app can fall under our pattern ("un:" vs "un:events:x:"):
      // only an event on its own type's channel is ours. Several of our patterns
      // can match one channel: each event is delivered once.
      if (channel !== keys.channel(event.type)) continue;
      if (event.origin === self || !seen.firstTime(event.id, now)) continue;
      try {
        deliver(event);
      } catch (error) {
        log.error("could not deliver an event from another process", { event: event.id, error });
      }
    }
  });
  // One change at a time, so subscribes and unsubscribes reach Redis in order.
  let syncing = Promise.resolve();
  const sync = (): Promise<void> => {
    syncing = syncing.then(async () => {
      const want = new Set(following.patterns().map((p) => keys.channelPattern(p)));
      const add = [...want].filter((p) => !subscribed.has(p));
      const drop = [...subscribed].filter((p) => !want.has(p));
      add.forEach((p) => subscribed.add(p));
      drop.forEach((p) => subscribed.delete(p));
      if (add.length) await sub.psubscribe(...add);
      if (drop.length) await sub.punsubscribe(...drop);
    }).catch((error) => log.error("could not follow other processes' events", { error }));
    return syncing;
  };
  const stop = following.onChange(sync);
  void sync();
  return stop;
}
