/**
 * Live delivery: a process hears the other processes' events of the types it
 * follows on pub/sub (`PSUBSCRIBE <prefix>events:<pattern>`) and hands them to
 * its local bus, so SSE streams, a cancel's abort of a local worker and
 * `source.*` reactions work across processes. An event is never handed back
 * to the process that made it (`origin`), and an event published twice is
 * delivered once.
 */

import type { Redis } from "ioredis";
import type { CloudEvent } from "../../../events/cloud-event.ts";
import type { Logger } from "../../../log.ts";
import type { BridgeKeys } from "./keys.ts";
import { FollowerInterest } from "./interest.ts";
import { replayLog } from "./replay.ts";
import type { SeenIds } from "./seen.ts";
import { Backoff, delay } from "./timing.ts";
import { decodeBroadcast, isFrom } from "./wire.ts";

/**
 * What this process follows of other processes' events.
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
  /**
   * A connection (not the subscriber): to tell the other processes what this
   * one follows (lib/store/redis/bridge/interest.ts), and to read the event log with after
   * a new subscription or a lost subscriber connection, so what was published
   * meanwhile is still delivered (lib/store/redis/bridge/replay.ts).
   */
  history: Redis;
  /** Test fault: each change of what is followed waits this long before it is made. */
  delayMs?: number;
}

/**
 * Subscribes `sub` (a connection in subscriber mode, used for nothing else)
 * to the channels of the event types this process follows, and keeps the
 * subscriptions in step as local subscribers come and go (an SSE stream opens,
 * closes), so Redis sends a process only what it wants: no process hears the
 * others' task lifecycle unless something of its own follows it, and the
 * others learn what it follows, so they publish only that. ioredis
 * subscribes again by itself after a reconnect; then what was published while
 * the connection was down is read from the event log and delivered, once.
 * Returns how to stop.
 *
 * @example
 * ```ts
 * const stop = listen(sub, {
 *   keys, self: PROCESS_ID, seen, log, following, deliver: (e) => bus.publishRemote(e), history: writer,
 * });
 * ```
 */
export function listen(sub: Redis, options: ListenOptions): () => void {
  const { keys, self, seen, log, following, deliver } = options;
  /** Redis patterns subscribed (or being subscribed) now. */
  const subscribed = new Set<string>();
  /** Hands one event over unless it is our own or was delivered already; true when it did. */
  const take = (event: CloudEvent, now: number): boolean => {
    if (event.origin === self || !seen.firstTime(event.id, now)) return false;
    try {
      deliver(event);
    } catch (error) {
      log.error("could not deliver an event from another process", { event: event.id, error });
    }
    return true;
  };
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
      if (channel === keys.channel(event.type)) take(event, now);
    }
  });
  const history = options.history;
  const stopCatchingUp = catchUpAfterLosses(sub, history, keys.stream, following, take, log);
  const interest = new FollowerInterest({
    writer: history,
    keys,
    self,
    log,
    patterns: () => following.patterns(),
    catchUp: (since, wants) =>
      replayLog({
        redis: history,
        stream: keys.stream,
        lostAt: since,
        leadMs: 0,
        wants: (type) => wants(type) && following.wants(type),
        take: (e) => take(e, Date.now()),
      }),
  });
  const onReady = () => interest.rewrite();
  sub.on("ready", onReady);
  const stopping = new AbortController();
  // One change at a time, so subscribes and unsubscribes reach Redis in order.
  let syncing = Promise.resolve();
  /** Resolves once the change is in effect: subscribed, and the publishers know. */
  const sync = (): Promise<void> => {
    // A follow asked for now covers events made from now on, though the
    // subscription takes effect later (behind earlier changes, on a slow Redis).
    const askedAt = Date.now();
    let added = false;
    syncing = syncing.then(async () => {
      if (options.delayMs) await delay(options.delayMs, stopping.signal);
      const patterns = following.patterns();
      const typeOf = new Map(patterns.map((p) => [keys.channelPattern(p), p]));
      const add = [...typeOf.keys()].filter((p) => !subscribed.has(p));
      const drop = [...subscribed].filter((p) => !typeOf.has(p));
      if (!add.length && !drop.length) return;
      add.forEach((p) => subscribed.add(p));
      drop.forEach((p) => subscribed.delete(p));
      added = add.length > 0;
      if (added) await sub.psubscribe(...add);
      if (drop.length) await sub.punsubscribe(...drop);
      await interest.changed(add.map((p) => typeOf.get(p)!), askedAt);
    }).catch((error) => log.error("could not follow other processes' events", { error }));
    // Waited for outside the chain, so the next change is not held up by it.
    return syncing.then(() => (added ? interest.read() : undefined));
  };
  const stopSyncing = following.onChange(sync);
  void sync();
  return () => {
    stopping.abort();
    stopSyncing();
    stopCatchingUp();
    sub.off("ready", onReady);
    interest.close();
  };
}

/**
 * Each time `sub` is back after a loss: once its subscriptions are in effect,
 * the event log from the loss on is read and handed to `take`. A replay that
 * fails (Redis away again) is tried again with backoff; a loss during a
 * replay makes it read again from the earlier loss. Returns how to stop.
 */
function catchUpAfterLosses(
  sub: Redis,
  history: Redis,
  stream: string,
  following: Following,
  take: (event: CloudEvent, now: number) => boolean,
  log: Logger,
): () => void {
  const stopping = new AbortController();
  let lostAt: number | null = null;
  let losses = 0;
  let running = false;
  const onClose = () => {
    losses++;
    lostAt ??= Date.now();
  };
  const catchUp = async () => {
    if (running) return;
    running = true;
    const backoff = new Backoff();
    try {
      while (lostAt !== null && sub.status === "ready" && !stopping.signal.aborted) {
        const since = lostAt;
        const before = losses;
        try {
          // Answered after the resubscriptions ioredis sent first on this
          // connection: anything published from here on arrives live.
          await sub.ping();
          const replayed = following.patterns().length === 0 ? 0 : await replayLog({
            redis: history,
            stream,
            lostAt: since,
            wants: (type) => following.wants(type),
            take: (event) => take(event, Date.now()),
          });
          if (losses === before) lostAt = null;
          log.info("subscriber connection back; caught up from the event log", {
            downMs: Date.now() - since,
            replayed,
          });
        } catch (error) {
          log.warn("could not catch up from the event log yet; trying again", { error });
          await delay(backoff.next(), stopping.signal);
        }
      }
    } finally {
      running = false;
    }
  };
  sub.on("close", onClose);
  sub.on("ready", catchUp);
  return () => {
    stopping.abort();
    sub.off("close", onClose);
    sub.off("ready", catchUp);
  };
}
