/**
 * Queue control on Redis: paused queues in the set `<prefix>queues:paused`,
 * rate limits in the hash `<prefix>queues:limits` (queue → "max perMs", or
 * "max perMs by" for a limit by group key) and each limited queue's window
 * count in `<prefix>rl:<queue>:<window>` (per group: `rlg:…`). The
 * claim script reads them (scripts/includes/queue-gate.lua), so a pause or a
 * limit holds across every process at the claim itself.
 */

import { type RateLimit, type RateLimitUsage, windowOf } from "../queue-control.ts";
import { execAll, guarded, type RedisContext } from "./context.ts";

const pausedKey = (ctx: RedisContext) => `${ctx.keys.prefix}queues:paused`;
const limitsKey = (ctx: RedisContext) => `${ctx.keys.prefix}queues:limits`;

/** Pauses or resumes a queue; true when its state changed. */
export async function setQueuePaused(
  ctx: RedisContext,
  queue: string,
  paused: boolean,
): Promise<boolean> {
  const op = { op: paused ? "pauseQueue" : "resumeQueue" };
  const changed = await guarded(
    op,
    () => paused ? ctx.redis.sadd(pausedKey(ctx), queue) : ctx.redis.srem(pausedKey(ctx), queue),
  );
  return changed === 1;
}

/** The paused queues, sorted. */
export async function pausedQueues(ctx: RedisContext): Promise<string[]> {
  const queues = await guarded({ op: "pausedQueues" }, () => ctx.redis.smembers(pausedKey(ctx)));
  return queues.sort();
}

/** Replaces the rate limits, in one step. */
export async function setRateLimits(
  ctx: RedisContext,
  limits: Record<string, RateLimit>,
): Promise<void> {
  const pipeline = ctx.redis.multi().del(limitsKey(ctx));
  const entries = Object.entries(limits);
  if (entries.length > 0) {
    pipeline.hset(
      limitsKey(ctx),
      Object.fromEntries(
        entries.map(([queue, { max, perMs, by }]) => [
          queue,
          by === undefined ? `${max} ${perMs}` : `${max} ${perMs} ${by}`,
        ]),
      ),
    );
  }
  await execAll({ op: "setRateLimits" }, pipeline);
}

/**
 * Each limited queue's limit and the count of its current window; with
 * `group`, a queue limited by group key counts that group's window.
 */
export async function rateLimitUsage(
  ctx: RedisContext,
  now: number,
  group?: string | null,
): Promise<Record<string, RateLimitUsage>> {
  const raw = await guarded({ op: "rateLimitUsage" }, () => ctx.redis.hgetall(limitsKey(ctx)));
  const limits = Object.entries(raw).flatMap(
    ([queue, value]): Array<RateLimit & { queue: string }> => {
      const match = /^(\d+) (\d+)(?: (.+))?$/.exec(value);
      if (match === null) return [];
      const limit = { queue, max: Number(match[1]), perMs: Number(match[2]) };
      return [match[3] === undefined ? limit : { ...limit, by: match[3] }];
    },
  );
  if (limits.length === 0) return {};
  const windows = limits.map((limit) => windowOf(limit, now));
  const counts = await guarded(
    { op: "rateLimitUsage" },
    () =>
      ctx.redis.mget(
        limits.map(({ queue, by }, i) =>
          group === undefined || by === undefined
            ? `${ctx.keys.prefix}rl:${queue}:${windows[i].index}`
            : groupWindowKey(ctx, queue, group ?? "", windows[i].index)
        ),
      ),
  );
  return Object.fromEntries(limits.map(({ queue, ...limit }, i) => [queue, {
    ...limit,
    count: Number(counts[i] ?? 0),
    until: windows[i].until,
  }]));
}

/**
 * The window count of one group of a queue limited by group key, named as
 * the claim script names it (scripts/includes/queue-gate.lua: the queue's
 * length in bytes, as Lua's `#`, keeps a queue name with ':' apart).
 */
function groupWindowKey(ctx: RedisContext, queue: string, group: string, index: number): string {
  const bytes = new TextEncoder().encode(queue).length;
  return `${ctx.keys.prefix}rlg:${index}:${bytes}:${queue}:${group}`;
}
