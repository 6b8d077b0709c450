/**
 * Live delivery: every process hears every other process's events on pub/sub
 * (`PSUBSCRIBE <prefix>events:*`) and hands them to its local bus, so SSE
 * streams, a cancel's abort of a local worker and `source.*` reactions work
 * across processes. An event is never handed back to the process that made it
 * (`origin`), and an event published twice is delivered once.
 */

import type { Redis } from "ioredis";
import type { CloudEvent } from "../events.ts";
import type { Logger } from "../log.ts";
import type { BridgeKeys } from "./keys.ts";
import type { SeenIds } from "./seen.ts";
import { decodeBroadcast, isFrom } from "./wire.ts";

/**
 * Options of {@link listen}.
 *
 * @example
 * ```ts
 * const options: ListenOptions = {
 *   keys, self: PROCESS_ID, seen: new SeenIds(600_000, 100_000), log,
 *   listens: (type) => bus.wantsRemote(type), deliver,
 * };
 * ```
 */
export interface ListenOptions {
  keys: BridgeKeys;
  /** This process's id: events whose `origin` it is are skipped. */
  self: string;
  seen: SeenIds;
  log: Logger;
  /** False when no local subscriber wants events of this type: their messages are not parsed. */
  listens(type: string): boolean;
  /** Hands another process's event to the local bus. */
  deliver(event: CloudEvent): void;
}

/**
 * Subscribes `sub` (a connection in subscriber mode, used for nothing else)
 * to every event channel of the prefix. ioredis subscribes again by itself
 * after a reconnect; events published while disconnected are not replayed
 * (their hooks still run: the stream keeps them).
 *
 * @example
 * ```ts
 * await listen(sub, {
 *   keys, self: PROCESS_ID, seen, log,
 *   listens: (type) => bus.wantsRemote(type), deliver: (e) => bus.publishRemote(e),
 * });
 * ```
 */
export async function listen(sub: Redis, options: ListenOptions): Promise<void> {
  const { keys, self, seen, log, listens, deliver } = options;
  sub.on("pmessage", (pattern: string, channel: string, message: string) => {
    if (pattern !== keys.pattern) return;
    // Our own events come back to us too, and most others' are of no use
    // here (nobody follows task.started of another process): both are
    // dropped before any parsing.
    if (isFrom(message, self) || !listens(channel.slice(keys.channels.length))) return;
    const events = decodeBroadcast(message);
    if (events.length === 0) {
      log.warn("unreadable event on a bridge channel; ignored", { channel });
      return;
    }
    const now = Date.now();
    for (const event of events) {
      // A longer prefix of another app can fall under our pattern ("un:" vs "un:events:x:"):
      // only an event on its own type's channel is ours.
      if (channel !== keys.channel(event.type)) continue;
      if (event.origin === self || !seen.firstTime(event.id, now)) continue;
      try {
        deliver(event);
      } catch (error) {
        log.error("could not deliver an event from another process", { event: event.id, error });
      }
    }
  });
  await sub.psubscribe(keys.pattern);
}
