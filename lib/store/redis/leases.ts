/**
 * The worker's side of a task on Redis: claim, renew, progress, complete and
 * fail, each checked against the lease's fence inside one script. Claims and
 * completes come in batches (see `batcher.ts`): one script run serves every
 * claim and complete made at the same moment.
 */

import type { Json } from "../../events/cloud-event.ts";
import type { Task, TaskError } from "../../tasks/task.ts";
import type { ClaimOptions, FinishResult } from "../types.ts";
import type { Settled } from "./batcher.ts";
import { BatchBudgets } from "./budgets.ts";
import type { ClaimedTasks } from "./claimed.ts";
import { type RedisContext, runScript, runTaskScript } from "./context.ts";
import { storeError } from "./errors.ts";
import { asList, parseClaim, parseComplete, parseFinish } from "./replies.ts";

/**
 * One complete call as the batch sends it.
 */
export interface CompleteCall {
  id: string;
  fence: number;
  result: Json;
  now: number;
}

/**
 * A worker's call on its lease path: a claim, or a complete.
 */
export type LeaseCall =
  | { kind: "claim"; options: ClaimOptions }
  | { kind: "complete"; call: CompleteCall };

/** What a {@link LeaseCall} gives: the claimed task (or null), or the complete's result. */
export type LeaseResult = Task | null | FinishResult;

/** A complete on its way: what its reply is read with. */
interface SentComplete {
  call: CompleteCall;
  resultJson: string;
  copy: Task | undefined;
}

/**
 * Runs a batch of claims and completes in one script call, in order, exactly
 * as separate calls would run; each gets its own result or its own error
 * (a complete whose lease is gone: LeaseLostError). Claims on no queue get
 * null without a trip to Redis. Claims that share a resource budget share
 * one loan of it (see budgets.ts); one that found nothing while another
 * batch held the loan goes again once the loan is back.
 *
 * @example
 * ```ts
 * const [done, next] = await leaseMany(ctx, claimed, [
 *   { kind: "complete", call: { id, fence, result: { ok: true }, now: Date.now() } },
 *   { kind: "claim", options: { workerId: "w1", queues: null, leaseMs: 30_000, now: Date.now() } },
 * ]);
 * ```
 */
export async function leaseMany(
  ctx: RedisContext,
  claimed: ClaimedTasks,
  calls: LeaseCall[],
): Promise<Settled<LeaseResult, LeaseCall>[]> {
  const args: string[] = [];
  const sent: number[] = [];
  const completes = new Map<number, SentComplete>();
  const budgets = new BatchBudgets(args);
  calls.forEach((entry, i) => {
    if (entry.kind === "claim") {
      const request = entry.options;
      if (request.queues !== null && request.queues.length === 0) return;
      const budget = budgets.refFor(request);
      sent.push(i);
      args.push(
        "l",
        request.workerId,
        String(request.now + request.leaseMs),
        String(request.now),
        budget,
        String(request.queues === null ? -1 : request.queues.length),
        ...(request.queues ?? []),
      );
      return;
    }
    const c = entry.call;
    // A handler that returns nothing gives undefined at run time: stored as null.
    const resultJson = c.result === null || c.result === undefined ? "" : JSON.stringify(c.result);
    const copy = claimed.peek(c.id, c.fence);
    completes.set(i, { call: c, resultJson, copy });
    sent.push(i);
    args.push("c", c.id, String(c.fence), resultJson, String(c.now), copy ? "1" : "0");
  });
  const results: Settled<LeaseResult, LeaseCall>[] = calls.map(() => ({ ok: true, value: null }));
  if (sent.length === 0) return results;
  const op = completes.size === 0 ? "claim" : completes.size === sent.length ? "complete" : "lease";
  try {
    const replies = asList(await runTaskScript(ctx, "completeClaim", args, { op }), op);
    readReplies(claimed, { calls, sent, completes, budgets, results }, replies);
  } finally {
    // What the claims took is recorded before anyone hears of it; a failed
    // run took nothing.
    budgets.settle();
  }
  return results;
}

/** A batch on its way: what its replies are read with. */
interface SentBatch {
  calls: LeaseCall[];
  /** Indexes of the calls sent, in the order of the replies. */
  sent: number[];
  completes: Map<number, SentComplete>;
  budgets: BatchBudgets;
  results: Settled<LeaseResult, LeaseCall>[];
}

/** Fills the batch's results from the script's replies, one per call sent. */
function readReplies(
  claimed: ClaimedTasks,
  { calls, sent, completes, budgets, results }: SentBatch,
  replies: unknown[],
): void {
  sent.forEach((index, j) => {
    const reply = replies[j] ?? null;
    const complete = completes.get(index);
    if (complete) {
      results[index] = completeResult(claimed, complete, reply);
      return;
    }
    const request = (calls[index] as { options: ClaimOptions }).options;
    const claim = {
      workerId: request.workerId,
      leaseUntil: request.now + request.leaseMs,
      now: request.now,
    };
    const task = parseClaim(reply, claim);
    if (task !== null) claimed.remember(task);
    budgets.took(request, task);
    results[index] = task === null && budgets.refused(request)
      ? { ok: "again", again: budgets.again(request) }
      : { ok: true, value: task };
  });
}

function completeResult(
  claimed: ClaimedTasks,
  { call, resultJson, copy }: SentComplete,
  reply: unknown,
): Settled<FinishResult> {
  claimed.forget(call.id);
  if (reply instanceof Error) {
    return {
      ok: false,
      error: storeError(reply, { op: "complete", taskId: call.id, fence: call.fence }),
    };
  }
  return {
    ok: true,
    value: parseComplete(reply, { fence: call.fence, resultJson, now: call.now }, copy),
  };
}

/**
 * Extends a lease; false when the fence no longer holds.
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
