/**
 * The worker's side of a task on Redis: claim, renew, progress, complete and
 * fail, each checked against the lease's fence inside one script. Claims and
 * completes come in batches (see `batcher.ts`): one script run serves every
 * call made at the same moment.
 */

import type { Json } from "../../events.ts";
import type { Task, TaskError } from "../../tasks.ts";
import type { ClaimOptions, FinishResult } from "../types.ts";
import type { Settled } from "./batcher.ts";
import type { ClaimedTasks } from "./claimed.ts";
import { type RedisContext, runScript, runTaskScript } from "./context.ts";
import { storeError } from "./errors.ts";
import { asList, parseClaim, parseComplete, parseFinish } from "./replies.ts";

/**
 * Runs a batch of claims in one script call, in order, exactly as separate
 * claims would run. Claims on no queue get null without a trip to Redis.
 *
 * @example
 * ```ts
 * const [first] = await claimMany(ctx, [{ workerId: "w1", queues: null, leaseMs: 30_000, now: Date.now() }]);
 * ```
 */
export async function claimMany(
  ctx: RedisContext,
  claimed: ClaimedTasks,
  requests: ClaimOptions[],
): Promise<Settled<Task | null>[]> {
  const args: string[] = [];
  const sent: number[] = [];
  requests.forEach((request, i) => {
    if (request.queues !== null && request.queues.length === 0) return;
    sent.push(i);
    args.push(
      request.workerId,
      String(request.now + request.leaseMs),
      String(request.now),
      request.available ? JSON.stringify(request.available) : "",
      String(request.queues === null ? -1 : request.queues.length),
      ...(request.queues ?? []),
    );
  });
  const results: Settled<Task | null>[] = requests.map(() => ({ ok: true, value: null }));
  if (sent.length === 0) return results;
  const replies = asList(await runTaskScript(ctx, "claim", args, { op: "claim" }), "claim");
  sent.forEach((index, j) => {
    const request = requests[index];
    const claim = {
      workerId: request.workerId,
      leaseUntil: request.now + request.leaseMs,
      now: request.now,
    };
    const task = parseClaim(replies[j] ?? null, claim);
    if (task !== null) claimed.remember(task);
    results[index] = { ok: true, value: task };
  });
  return results;
}

/**
 * One complete call as the batch sends it.
 *
 * @example
 * ```ts
 * const call: CompleteCall = { id: task.id, fence: task.fence, result: { ok: true }, now: Date.now() };
 * ```
 */
export interface CompleteCall {
  id: string;
  fence: number;
  result: Json;
  now: number;
}

/**
 * Runs a batch of completes in one script call; each gets its own result or
 * its own LeaseLostError.
 *
 * @example
 * ```ts
 * const [done] = await completeMany(ctx, [{ id, fence, result: { ok: true }, now: Date.now() }]);
 * ```
 */
export async function completeMany(
  ctx: RedisContext,
  claimed: ClaimedTasks,
  calls: CompleteCall[],
): Promise<Settled<FinishResult>[]> {
  // A handler that returns nothing gives undefined at run time: stored as null.
  const resultJsons = calls.map((c) =>
    c.result === null || c.result === undefined ? "" : JSON.stringify(c.result)
  );
  const copies = calls.map((c) => claimed.peek(c.id, c.fence));
  const args = calls.flatMap((c, i) => [
    c.id,
    String(c.fence),
    resultJsons[i],
    String(c.now),
    copies[i] ? "1" : "0",
  ]);
  const replies = asList(
    await runTaskScript(ctx, "complete", args, { op: "complete" }),
    "complete",
  );
  return calls.map((c, i): Settled<FinishResult> => {
    const reply = replies[i];
    claimed.forget(c.id);
    if (reply instanceof Error) {
      return {
        ok: false,
        error: storeError(reply, { op: "complete", taskId: c.id, fence: c.fence }),
      };
    }
    return {
      ok: true,
      value: parseComplete(
        reply,
        { fence: c.fence, resultJson: resultJsons[i], now: c.now },
        copies[i],
      ),
    };
  });
}

/**
 * Extends a lease; false when the fence no longer holds.
 *
 * @example
 * ```ts
 * const held = await renew(ctx, task.id, task.fence, 30_000, Date.now());
 * ```
 */
export async function renew(
  ctx: RedisContext,
  id: string,
  fence: number,
  leaseMs: number,
  now: number,
): Promise<boolean> {
  const reply = await runScript(
    ctx,
    "renew",
    [ctx.keys.task(id)],
    [ctx.keys.prefix, id, String(fence), String(now + leaseMs)],
    { op: "renew", taskId: id, fence },
  );
  return Number(reply) === 1;
}

/**
 * Records progress (clamped to 0..1); LeaseLostError when the fence no longer holds.
 *
 * @example
 * ```ts
 * await progress(ctx, task.id, task.fence, 0.5, "half way");
 * ```
 */
export async function progress(
  ctx: RedisContext,
  id: string,
  fence: number,
  fraction: number,
  message: string | null,
): Promise<void> {
  const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  await runScript(
    ctx,
    "progress",
    [ctx.keys.task(id)],
    [String(fence), String(clamped), JSON.stringify(message)],
    { op: "progress", taskId: id, fence },
  );
}

/**
 * Records a failed attempt (retrying with `retryAt`, else failed/dead).
 *
 * @example
 * ```ts
 * await fail(ctx, id, fence, { message: "boom", attempt: 1 }, Date.now() + 1000, Date.now());
 * ```
 */
export async function fail(
  ctx: RedisContext,
  id: string,
  fence: number,
  error: TaskError,
  retryAt: number | null,
  now: number,
): Promise<FinishResult> {
  const reply = await runTaskScript(ctx, "fail", [
    id,
    String(fence),
    JSON.stringify(error),
    retryAt === null ? "" : String(retryAt),
    error.permanent ? "failed" : "dead",
    String(now),
  ], { op: "fail", taskId: id, fence });
  return parseFinish(reply, "fail");
}
