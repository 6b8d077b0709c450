/**
 * What the parts of the Redis store share: the connection, the key layout and
 * the loaded scripts, plus the one place Redis errors become typed errors.
 */

import type { ChainableCommander, Redis } from "ioredis";
import type { RedisKeys } from "./keys.ts";
import { type ErrorContext, storeError } from "./errors.ts";
import type { ScriptName, Scripts } from "./scripts.ts";

/**
 * The connection, keys and scripts of one open Redis store.
 */
export interface RedisContext {
  redis: Redis;
  keys: RedisKeys;
  scripts: Scripts;
  /** How appended events reach other processes (the Redis bridge); null = they do not. */
  bridge: EventBridge | null;
  /** How many events the log may hold between clean-ups; null = no cap. */
  eventCap: EventCap | null;
}

/**
 * The event log's cap between retention clean-ups: an append that finds the
 * log past `max` plus some headroom trims it back to `max` (the oldest batches
 * go), so a burst of events cannot fill Redis's memory before the next
 * clean-up. One trim runs at a time.
 */
export interface EventCap {
  max: number;
  /** The trim running now, if any. */
  trimming: Promise<unknown> | null;
}

/**
 * The bridge's side of the event log: the log's stream is made with this
 * consumer group (the hooks read it), and each appended batch also goes out
 * on `<channels><type>`, in the same MULTI as the append, for the types some
 * process follows (lib/store/redis/bridge/interest.ts).
 */
export interface EventBridge {
  group: string;
  /** Prefix of the pub/sub channels; the event type completes the name. */
  channels: string;
  /** False for a type no process follows: its events are logged, not published. */
  publishes(type: string): boolean;
}

/**
 * Runs one Redis call and turns its failure into a typed error.
 */
export async function guarded<T>(context: ErrorContext, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw storeError(error, context);
  }
}

/**
 * Runs a pipeline (or MULTI) and returns its replies in order. ioredis
 * resolves a pipeline even when its commands failed (during an outage each
 * entry holds "not connected"): the first failure is thrown, typed, instead
 * of reading as an empty reply.
 */
export async function execAll(
  context: ErrorContext,
  pipeline: ChainableCommander,
): Promise<unknown[]> {
  const replies = await guarded(context, () => pipeline.exec());
  return (replies ?? []).map(([error, value]) => {
    if (error) throw storeError(error, context);
    return value;
  });
}

/**
 * Runs a script with explicit keys.
 */
export function runScript(
  ctx: RedisContext,
  name: ScriptName,
  keys: readonly string[],
  args: readonly string[],
  context: ErrorContext,
): Promise<unknown> {
  return guarded(context, () => ctx.scripts[name].run(ctx.redis, keys, args));
}

/**
 * Runs a task script: the fixed task keys, then the prefix and `args`.
 */
export function runTaskScript(
  ctx: RedisContext,
  name: ScriptName,
  args: readonly string[],
  context: ErrorContext,
): Promise<unknown> {
  return runScript(ctx, name, ctx.keys.taskScriptKeys, [ctx.keys.prefix, ...args], context);
}
