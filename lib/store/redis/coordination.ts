/**
 * Coordination between processes sharing one Redis (named leases with fencing
 * tokens, once-only ticks) and the learned statistics of task types.
 */

import {
  type LeaseHolding,
  MIN_RUN_MS,
  runBatchWeight,
  type RunSample,
  type TypeStats,
} from "../types.ts";
import { guarded, type RedisContext, runScript } from "./context.ts";

/**
 * How long a claimed tick is remembered. Ticks are claimed when they are due,
 * so a day is far more than any two processes can disagree about "now".
 */
const TICK_MEMORY_MS = 24 * 60 * 60 * 1000;

/**
 * Takes or renews a named lease; its fence, or null when another holder has it.
 */
export async function acquireLease(
  ctx: RedisContext,
  name: string,
  holder: string,
  ttlMs: number,
  now: number,
): Promise<number | null> {
  const fence = await runScript(
    ctx,
    "acquireLease",
    [ctx.keys.lease(name)],
    [holder, String(now + ttlMs), String(now)],
    { op: "acquireLease" },
  );
  return fence === null ? null : Number(fence);
}

/**
 * Frees a named lease when `holder` holds it.
 */
export async function releaseLease(ctx: RedisContext, name: string, holder: string): Promise<void> {
  await runScript(ctx, "releaseLease", [ctx.keys.lease(name)], [holder], { op: "releaseLease" });
}

/**
 * Who holds a named lease at `now`; null when it is free or ran out.
 */
export async function leaseHolder(
  ctx: RedisContext,
  name: string,
  now: number,
): Promise<LeaseHolding | null> {
  const [holder, until, fence] = await guarded(
    { op: "leaseHolder" },
    () => ctx.redis.hmget(ctx.keys.lease(name), "holder", "until", "fence"),
  );
  return holder && Number(until) > now ? { holder, fence: Number(fence) } : null;
}

/**
 * True the first time (name, tick) is claimed by any process.
 */
export async function claimTick(ctx: RedisContext, name: string, tick: number): Promise<boolean> {
  const reply = await guarded(
    { op: "claimTick" },
    () => ctx.redis.set(ctx.keys.tick(name, tick), "1", "PX", TICK_MEMORY_MS, "NX"),
  );
  return reply === "OK";
}

/**
 * Adds a batch of runs of a task type to its counts and moves the moving
 * average of run time toward the batch's mean (see `Store.recordRuns`): one
 * script call per batch.
 */
export async function recordRuns(
  ctx: RedisContext,
  type: string,
  sample: RunSample,
  now: number,
): Promise<void> {
  if (!(sample.runs >= 1)) return;
  const log = Math.log(Math.max(MIN_RUN_MS, sample.meanMs));
  await runScript(
    ctx,
    "recordRuns",
    [ctx.keys.typeStats(type)],
    [
      String(sample.runs),
      String(sample.failures),
      String(sample.meanMs),
      String(runBatchWeight(sample.runs)),
      String(now),
      String(sample.logSum ?? sample.runs * log),
      String(sample.logSqSum ?? sample.runs * log * log),
      String(sample.halfLifeMs ?? 0),
    ],
    { op: "recordRuns" },
  );
}

/**
 * Learned statistics of a task type, or null before its first run.
 */
export async function typeStats(ctx: RedisContext, type: string): Promise<TypeStats | null> {
  const h = await guarded({ op: "typeStats" }, () => ctx.redis.hgetall(ctx.keys.typeStats(type)));
  if (h.runs === undefined) return null;
  const stats: TypeStats = {
    type,
    runs: Number(h.runs),
    failures: Number(h.failures),
    avgMs: Number(h.avgMs),
    updatedAt: Number(h.updatedAt),
  };
  if (h.w !== undefined) {
    stats.model = {
      weight: Number(h.w),
      failWeight: Number(h.wf),
      logSum: Number(h.ls),
      logSqSum: Number(h.lq),
    };
  }
  return stats;
}
