/**
 * Applying hooks once per event across every process (on Redis this consumer
 * group is the hooks' feeder, lib/hooks/; embedded, the bus is): for each stream entry
 * read through the consumer group (a batch of events), each event's hook tasks
 * are enqueued by exactly one process (which is also the one that counts the
 * event for a sampled hook, in the store), then the entry is acknowledged. An
 * entry whose types no hook wants is acknowledged without being parsed.
 *
 * Once-only rests on a marker per event id, in two steps:
 * 1. `SET processed:<id> <consumer> NX PX <claimTtl>` — "I am applying it".
 *    It expires, so a process that dies before enqueueing does not block the
 *    event forever: whoever reclaims the entry after that takes it over.
 * 2. after the enqueue is stored, `SET processed:<id> done PX <processedTtl>`
 *    and `XACK`. A re-delivered entry (reclaimed, or appended twice by a
 *    retried write) that finds `done` is only acknowledged.
 * Keying the marker by event id, not entry id, is what makes a duplicate
 * entry of the same event harmless.
 */

import type { Redis } from "ioredis";
import { UnavailableError } from "../../../errors.ts";
import type { CloudEvent } from "../../../events/cloud-event.ts";
import type { HookRouting } from "../../../hooks/mod.ts";
import type { Logger } from "../../../log.ts";
import type { TaskRequest } from "../../../protocol/messages.ts";
import type { BridgeKeys } from "./keys.ts";
import { Backoff, delay } from "./timing.ts";
import { decodeEvents, mayHold, type StreamEntry } from "./wire.ts";

/** Value of a marker whose event's hooks were applied. */
const DONE = "done";

/**
 * What {@link applyEntries} needs.
 */
export interface ApplyContext {
  /** A non-blocking connection. */
  redis: Redis;
  keys: BridgeKeys;
  /** This consumer's name (the process id), the value of its in-progress markers. */
  consumer: string;
  /** Life of an in-progress marker: how long a dead applier holds an event up. */
  claimTtlMs: number;
  /** Life of a done marker: how long a re-delivered entry is still recognised. */
  processedTtlMs: number;
  log: Logger;
  /** The hooks of this process (lib/hooks/): this consumer group is one of their two feeders. */
  hooks: HookRouting;
  /** Enqueues one event's tasks; resolves once they are stored. */
  enqueue(requests: TaskRequest[]): Promise<unknown>;
  /** Aborts when the bridge stops (retries give up). */
  signal: AbortSignal;
}

/**
 * What one call did.
 */
export interface ApplyResult {
  /** Events whose hook tasks this call enqueued. */
  applied: number;
  /** Entries acknowledged (applied here, applied before, or nothing to apply). */
  acked: number;
  /** Events left for later (their entries stay pending): another process is on them, or the enqueue failed for now. */
  left: number;
}

interface Work {
  entryId: string;
  event: CloudEvent;
  requests: TaskRequest[];
}

/**
 * Applies the hooks of a batch of entries once cluster-wide and acknowledges
 * what is settled. A Redis failure rejects; the entries stay pending and are
 * reclaimed later (by this process or another).
 *
 * @example
 * ```ts
 * const entries = readGroupEntries(await reader.xreadgroup("GROUP", g, me, "STREAMS", key, ">"));
 * await applyEntries(ctx, entries);
 * ```
 */
export async function applyEntries(
  ctx: ApplyContext,
  entries: StreamEntry[],
): Promise<ApplyResult> {
  const work: Work[] = [];
  for (const entry of entries) {
    if (!mayHold(entry, (type) => ctx.hooks.wants(type))) continue;
    for (const event of decodeEvents(entry.payload!)) {
      const requests = hookRequests(ctx, event);
      if (requests.length) work.push({ entryId: entry.id, event, requests });
    }
  }
  // An entry is acknowledged once every event in it is settled.
  const unsettled = new Set<string>();
  const done: Work[] = [];
  let left = 0;
  if (work.length) {
    const { mine, busy } = await claim(ctx, work);
    for (const w of busy) unsettled.add(w.entryId);
    left += busy.length;
    const outcomes = await Promise.allSettled(mine.map(async (w) => {
      // Sampled hooks count here, by the one process applying the event: a count
      // that fails (the store away) leaves the event to a reclaim like an enqueue.
      const requests = ctx.hooks.sampling(w.requests)
        ? await ctx.hooks.sample(w.requests)
        : w.requests;
      if (requests.length) await enqueueSoon(ctx, requests);
    }));
    outcomes.forEach((outcome, i) => {
      const w = mine[i];
      if (outcome.status === "fulfilled") {
        done.push(w);
      } else if (outcome.reason instanceof UnavailableError) {
        // The store stayed away: the marker runs out and a reclaim applies the event later.
        left++;
        unsettled.add(w.entryId);
        ctx.log.warn("could not enqueue an event's hook tasks; it will be retried", {
          event: w.event.id,
          ...correlation(w.event),
          error: outcome.reason,
        });
      } else {
        // Permanent (a hook asks for an invalid task): retrying would fail the same way.
        done.push(w);
        ctx.log.error("an event's hook tasks were refused; the event is skipped", {
          event: w.event.id,
          ...correlation(w.event),
          eventType: w.event.type,
          tasks: w.requests.map((r) => r.type).join(","),
          error: outcome.reason,
        });
      }
    });
  }
  const ack = entries.map((entry) => entry.id).filter((id) => !unsettled.has(id));
  if (ack.length || done.length) {
    const pipeline = ctx.redis.pipeline();
    for (const w of done) {
      pipeline.set(ctx.keys.processed(w.event.id), DONE, "PX", ctx.processedTtlMs);
    }
    if (ack.length) pipeline.xack(ctx.keys.stream, ctx.keys.group, ...ack);
    throwFirst(await pipeline.exec());
  }
  return { applied: done.length, acked: ack.length, left };
}

/**
 * Enqueues, retrying while the store is unavailable (the bridge's connection
 * often comes back before the store's), for at most half the marker's life so
 * nobody else can take the event over meanwhile.
 */
async function enqueueSoon(ctx: ApplyContext, requests: TaskRequest[]): Promise<unknown> {
  const giveUpAt = Date.now() + ctx.claimTtlMs / 2;
  const backoff = new Backoff(100, 2_000);
  for (;;) {
    try {
      return await ctx.enqueue(requests);
    } catch (error) {
      const wait = backoff.next();
      const retry = error instanceof UnavailableError && !ctx.signal.aborted &&
        Date.now() + wait < giveUpAt;
      if (!retry) throw error;
      await delay(wait, ctx.signal);
    }
  }
}

function hookRequests(ctx: ApplyContext, event: CloudEvent): TaskRequest[] {
  try {
    return ctx.hooks.route(event);
  } catch (error) {
    ctx.log.error("hooks failed on an event; it is skipped", { event: event.id, error });
    return [];
  }
}

/**
 * Takes the in-progress marker of each event. `mine`: ours to apply; `busy`:
 * another consumer is on it. Events applied before are neither (nothing to do).
 */
async function claim(ctx: ApplyContext, work: Work[]): Promise<{ mine: Work[]; busy: Work[] }> {
  const set = ctx.redis.pipeline();
  for (const w of work) {
    set.set(ctx.keys.processed(w.event.id), ctx.consumer, "PX", ctx.claimTtlMs, "NX");
  }
  const taken = throwFirst(await set.exec());
  const mine = work.filter((_, i) => taken[i] === "OK");
  const others = work.filter((_, i) => taken[i] !== "OK");
  if (others.length === 0) return { mine, busy: [] };
  const get = ctx.redis.pipeline();
  for (const w of others) get.get(ctx.keys.processed(w.event.id));
  const values = throwFirst(await get.exec());
  return { mine, busy: others.filter((_, i) => values[i] !== DONE) };
}

/** The replies of a pipeline, or its first error. */
function throwFirst(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error("redis pipeline gave no replies");
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/** The `correlationid` log field of an event that has one. */
function correlation(event: { correlationid?: string }): { correlationid?: string } {
  return event.correlationid ? { correlationid: event.correlationid } : {};
}
