/**
 * Opening the Redis store: the client and its outage watch, the scripts, the
 * bridge's side of the event log, and the first epoch check (has this Redis
 * lost un's data?), which every reconnect repeats. Also what `ping()` answers
 * and how `close()` lets go of the connection.
 */

import { bridgeKeys } from "./bridge/keys.ts";
import { PublishGate } from "./bridge/gate.ts";
import { errorText, OutOfMemoryError, UnavailableError } from "../../errors.ts";
import { type ConnectionChange, ConnectionWatch, createClient } from "./connection.ts";
import { type EventBridge, guarded, type RedisContext } from "./context.ts";
import { RedisFaults } from "./faults.ts";
import { redisKeys } from "./keys.ts";
import { loadScripts } from "./scripts.ts";

/**
 * Options of {@link RedisStore.open}.
 */
export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port[/db]` */
  url: string;
  /** Prefix of every key (default `un:`), so several apps can share one Redis. */
  prefix?: string;
  /**
   * Told once when the connection is lost and once when it is back (ioredis
   * reconnects on its own meanwhile; commands fail fast with UnavailableError).
   */
  onConnection?: (change: ConnectionChange) => void;
  /**
   * Serve the Redis bridge: make the event log's stream with the hooks'
   * consumer group and publish appended events on pub/sub, in the same step
   * as the append, those of types some process follows. Off by default.
   */
  bridge?: boolean;
  /**
   * Events the log may hold between retention clean-ups (`events.maxCount`):
   * an append that finds it past this plus a tenth (at least 1 000) trims it
   * back at once.
   * Unset: only `trim()` removes events.
   */
  eventCap?: number;
}

/**
 * What an open Redis store is made of.
 */
export interface StoreParts {
  ctx: RedisContext;
  watch: ConnectionWatch;
  /** Who follows which event types (with the bridge); not started yet. */
  gate: PublishGate | null;
  faults: RedisFaults;
}

/**
 * Connects, loads the scripts and checks the epoch. Throws
 * {@link UnavailableError} when Redis cannot be reached, leaving nothing open.
 */
export async function openParts(options: RedisStoreOptions): Promise<StoreParts> {
  const redis = createClient(options.url);
  let faults: RedisFaults | null = null;
  // Listening from the start also keeps ioredis from printing every
  // reconnect error itself. A Redis that comes back may have come back
  // empty: its epoch says so (a failed check is tried again at the next heartbeat).
  const watch = new ConnectionWatch(redis, (change: ConnectionChange) => {
    options.onConnection?.(change);
    if (change.up) faults?.epoch.check().catch(() => {});
  });
  try {
    await redis.connect();
    const scripts = await loadScripts(redis);
    const prefix = options.prefix ?? "un:";
    const names = bridgeKeys(prefix);
    const gate = options.bridge ? new PublishGate(redis, names) : null;
    const bridge: EventBridge | null = gate
      ? { group: names.group, channels: names.channels, publishes: (t) => gate.publishes(t) }
      : null;
    const eventCap = options.eventCap ? { max: options.eventCap, trimming: null } : null;
    const ctx = { redis, keys: redisKeys(prefix), scripts, bridge, eventCap };
    faults = new RedisFaults(ctx);
    // A full Redis cannot take the first epoch: /health says so, and the
    // heartbeat writes it once Redis has room.
    await faults.epoch.check().catch((e) => {
      if (!(e instanceof OutOfMemoryError)) throw e;
    });
    return { ctx, watch, gate, faults };
  } catch (error) {
    watch.closing();
    redis.disconnect();
    const reason = errorText(error);
    throw new UnavailableError(`redis at ${redactUrl(options.url)} is unreachable: ${reason}`, {
      url: redactUrl(options.url),
    });
  }
}

/** How long `close()` waits for Redis to acknowledge QUIT before dropping the socket. */
const QUIT_TIMEOUT_MS = 1_000;

/**
 * Answers when Redis does; during an outage it fails at once with an
 * UnavailableError naming the cause and how long Redis has been away, and
 * with a StoreFaultError while Redis refuses writes or its lost data is not
 * acknowledged.
 */
export async function pingParts({ ctx, watch, faults }: StoreParts): Promise<void> {
  const since = watch.downSince;
  if (since !== null) {
    const seconds = ((Date.now() - since) / 1_000).toFixed(1);
    const reason = watch.reason ?? "not connected";
    throw new UnavailableError(`redis is unreachable (${reason}) for ${seconds}s`, {
      op: "ping",
      reason,
      downSince: new Date(since).toISOString(),
    });
  }
  await guarded({ op: "ping" }, () => ctx.redis.ping());
  faults.assertSound();
}

/**
 * Closes the connection: waits (briefly) for replies in flight, and never
 * hangs on a Redis that is gone. Safe to call twice.
 */
export async function closeParts({ ctx, watch, gate }: StoreParts): Promise<void> {
  const { redis } = ctx;
  gate?.stop();
  if (redis.status === "end") return;
  await ctx.eventCap?.trimming;
  watch.closing();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, QUIT_TIMEOUT_MS)));
  try {
    await Promise.race([redis.quit(), timedOut]);
  } catch {
    // Not connected: nothing to wait for.
  } finally {
    clearTimeout(timer);
    // Also stops reconnecting when QUIT failed or was not answered in time
    // (harmless after a QUIT that was answered).
    redis.disconnect();
  }
}

/** The URL without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(invalid url)";
  }
}
