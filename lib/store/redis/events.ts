/**
 * The event log on Redis is a stream (`<prefix>events:stream`): one entry per
 * batch written together, with the batch's types (`t`), its events as a JSON
 * array (`e`), how many (`n`) and the newest event's time in ms (`ms`, for
 * retention by age); `ev:count` counts the events in it (retention by count).
 * It is the very stream the bridge's consumer group reads for hooks, so each
 * event is sent to Redis and kept there once, not once for a log and again
 * for the bridge.
 *
 * History reads the stream in the order batches were appended, and `after`
 * names a position in it: a reader that resumes after the last event it saw
 * gets exactly what was appended since, even an event with a smaller id made
 * by a slower process (id order would skip it).
 *
 * With the bridge on, the same MULTI publishes the batch per run of one type,
 * for the types some process follows (lib/store/redis/bridge/gate.ts). These are plain
 * commands, not a script, on purpose: the same append as a Lua script cost
 * Redis more than it saved here (every string a script gets or builds is
 * copied into Lua). The price: a write retried after a lost reply is appended
 * again; history skips an event it already returned, and the bridge's
 * consumers apply an event once (lib/store/redis/bridge/seen.ts).
 */

import { decodeTime } from "ulid";
import {
  COUNT_FIELD,
  decodeEvents,
  encodeBroadcast,
  EVENTS_FIELD,
  mayHold,
  NEWEST_FIELD,
  readStream,
  TYPES_FIELD,
} from "./bridge/wire.ts";
import type { CloudEvent } from "../../events/cloud-event.ts";
import { compilePattern } from "../../events/wildcard.ts";
import type { EventQuery } from "../types.ts";
import { type EventBridge, execAll, guarded, type RedisContext, runScript } from "./context.ts";
import { storeError } from "./errors.ts";
import { asList } from "./replies.ts";

/** Least events past its cap the log holds before an append trims it. */
const CAP_HEADROOM_MIN = 1_000;
/** Stream entries read per round trip of a history read. */
const HISTORY_PAGE = 200;
/** Bytes of entries a trim call reads at most, so a trim never blocks Redis for long. */
const TRIM_BUDGET_BYTES = 1_000_000;
/**
 * How far before an `after` event's own time (its id's) its batch may sit in
 * the stream: batches are appended a few ms after their events are made, so
 * this covers clocks of other machines that run ahead.
 */
const ANCHOR_LEAD_MS = 60_000;

/** The stream entry's fields (see lib/store/redis/bridge/wire.ts). */
function entryFields(events: CloudEvent[]): string[] {
  const types = [...new Set(events.map((event) => event.type))];
  // Times of ours are ISO strings of one form, so the greatest string is the
  // newest time, and only that one is parsed.
  let newest = "";
  for (const event of events) if (event.time > newest) newest = event.time;
  const newestMs = Date.parse(newest);
  return [
    TYPES_FIELD,
    types.join("\n"),
    EVENTS_FIELD,
    // One stringify of the whole batch: cheaper than one per event and a join.
    JSON.stringify(events),
    COUNT_FIELD,
    String(events.length),
    NEWEST_FIELD,
    String(Number.isNaN(newestMs) ? 0 : newestMs),
  ];
}

/**
 * One message per run of events of one type and origin, `[channel, message]`,
 * for the types some process follows.
 */
function broadcasts(bridge: EventBridge, events: CloudEvent[]): string[][] {
  const out: string[][] = [];
  let first = 0;
  events.forEach((event, i) => {
    const next = events[i + 1];
    if (next && next.type === event.type && next.origin === event.origin) return;
    if (bridge.publishes(event.type)) {
      const json = JSON.stringify(events.slice(first, i + 1));
      out.push([bridge.channels + event.type, encodeBroadcast(event.origin, json)]);
    }
    first = i + 1;
  });
  return out;
}

/**
 * Appends events as one stream entry (and, with the bridge, publishes them).
 */
export async function appendEvents(ctx: RedisContext, events: CloudEvent[]): Promise<void> {
  if (events.length === 0) return;
  const context = { op: "appendEvents" };
  const fields = entryFields(events);
  const { eventStream, eventCount } = ctx.keys;
  const bridge = ctx.bridge;
  if (!bridge) {
    const [, count] = await execAll(
      context,
      ctx.redis.multi().xadd(eventStream, "*", ...fields).incrby(eventCount, events.length),
    );
    capLog(ctx, Number(count));
    return;
  }
  const tx = ctx.redis.multi()
    .xadd(eventStream, "NOMKSTREAM", "*", ...fields)
    .incrby(eventCount, events.length);
  for (const [channel, message] of broadcasts(bridge, events)) tx.publish(channel, message);
  const [entry, count] = await execAll(context, tx);
  if (entry === null) await firstEntry(ctx, bridge, fields);
  capLog(ctx, Number(count));
}

/**
 * Past its cap plus headroom (a tenth, at least {@link CAP_HEADROOM_MIN}),
 * the log is trimmed back to the cap in the background; a failed trim is left
 * to the next append or the periodic clean-up.
 */
function capLog(ctx: RedisContext, count: number): void {
  const cap = ctx.eventCap;
  if (!cap || cap.trimming) return;
  if (!(count > cap.max + Math.max(CAP_HEADROOM_MIN, Math.floor(cap.max / 10)))) return;
  // A cutoff of 0 ms: only the count rule removes batches.
  cap.trimming = trimEvents(ctx, 0, cap.max)
    .catch(() => 0)
    .finally(() => (cap.trimming = null));
}

/**
 * The stream did not exist (a new Redis, or it was deleted): it is made with
 * the hooks' group first, or the group, made later at `$`, would skip this
 * entry and its hooks would never run.
 */
async function firstEntry(ctx: RedisContext, bridge: EventBridge, fields: string[]) {
  const context = { op: "appendEvents" };
  const stream = ctx.keys.eventStream;
  try {
    await ctx.redis.xgroup("CREATE", stream, bridge.group, "0", "MKSTREAM");
  } catch (error) {
    // Another process made it meanwhile.
    if (!String(error).includes("BUSYGROUP")) throw storeError(error, context);
  }
  await guarded(context, () => ctx.redis.xadd(stream, "*", ...fields));
}

/**
 * Where a history read starts: the stream's start, or far enough before the
 * `after` event's time that its batch is in the read.
 */
function startOf(after: string | undefined): string {
  if (!after) return "-";
  let time: number;
  try {
    time = decodeTime(after);
  } catch {
    // Not an id of ours: nothing is anchored on it, compare ids from the start.
    return "-";
  }
  return String(Math.max(0, time - ANCHOR_LEAD_MS));
}

/**
 * Events after `query.after` whose type matches `query.type`, oldest first.
 * `after` found in the log: what was appended after it. Not found (trimmed,
 * or never logged here): the events with a greater id.
 */
export async function eventHistory(ctx: RedisContext, query: EventQuery): Promise<CloudEvent[]> {
  const limit = Math.max(0, Math.floor(query.limit));
  if (limit === 0) return [];
  const matches = query.type === undefined ? null : compilePattern(query.type);
  const after = query.after;
  const from = startOf(after);
  // Looking for `after` ends once the stream is past the time it could sit at.
  const searchUntil = from === "-" ? 0 : Number(from) + 2 * ANCHOR_LEAD_MS;
  let anchored = !after;
  let out: CloudEvent[] = [];
  let seen = new Set<string>();
  try {
    for await (const page of readStream(ctx.redis, ctx.keys.eventStream, from, HISTORY_PAGE)) {
      for (const entry of page) {
        // While `after` is looked for, every entry is read: it may hold it.
        if (!mayHold(entry, anchored && matches ? matches : undefined)) continue;
        for (const event of decodeEvents(entry.payload!)) {
          if (!anchored && event.id === after) {
            // Found: from here on, log order; what was taken by id so far goes.
            anchored = true;
            out = [];
            seen = new Set([event.id]);
            continue;
          }
          if (seen.has(event.id) || (!anchored && event.id <= after!)) continue;
          seen.add(event.id);
          if (out.length < limit && (!matches || matches(event.type))) out.push(event);
        }
        const searching = !anchored && Number(entry.id.split("-")[0]) < searchUntil;
        if (out.length >= limit && !searching) return out;
      }
    }
  } catch (error) {
    throw storeError(error, { op: "eventHistory" });
  }
  return out;
}

/**
 * Removes the oldest batches while their newest event is older than
 * `cutoffMs`, or while the rest still holds `maxEvents`; returns the events removed.
 */
export async function trimEvents(
  ctx: RedisContext,
  cutoffMs: number,
  maxEvents: number,
): Promise<number> {
  let total = 0;
  for (;;) {
    const [removed, done] = asList(
      await runScript(
        ctx,
        "trimEvents",
        [ctx.keys.eventStream, ctx.keys.eventCount],
        [String(cutoffMs), String(maxEvents), String(TRIM_BUDGET_BYTES)],
        { op: "trim" },
      ),
      "trimEvents",
    ).map(Number);
    total += removed;
    if (done === 1) return total;
  }
}
