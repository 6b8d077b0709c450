/**
 * The event log on Redis: one ZSET (`ev:log`), every score 0, each member
 * `<id>|<time ms>|<CloudEvent JSON>`. Members sort by the event's ULID, so
 * history and `after=<id>` are one lexicographic range, the oldest are trimmed
 * by rank, and an event appended again is found by its member (a retried
 * write sends the very same one, and `ZADD NX` keeps it once).
 *
 * With a mirror (the Redis bridge), the same MULTI also appends the batch to
 * the bridge's stream and publishes it, so the log and the stream never
 * disagree. These are plain commands, not a script, on purpose: Redis's Lua
 * hashes every byte of every string a script receives or builds, and a
 * script that took the events and built the stream entry and the messages
 * from them cost Redis three times what these commands do. The price: a
 * retried write reaches the stream and pub/sub again; consumers apply an
 * event once whatever reaches them twice (lib/bridge/seen.ts).
 */

import { encodeBroadcast, EVENTS_FIELD, TYPES_FIELD } from "../../bridge/wire.ts";
import type { CloudEvent } from "../../events.ts";
import { compilePattern } from "../../wildcard.ts";
import type { EventQuery } from "../types.ts";
import { type EventMirror, execAll, guarded, type RedisContext, runScript } from "./context.ts";
import { storeError } from "./errors.ts";
import { asList } from "./replies.ts";

/** Events read per round trip when a type filter drops some of them. */
const HISTORY_PAGE = 500;
/** Events removed per script call, so a trim never blocks Redis for long. */
const TRIM_BATCH = 1000;

/** `ZADD` arguments after the key: `NX`, then a score and a member per event. */
function logArgs(events: CloudEvent[], jsons: string[]): string[] {
  const args = ["NX"];
  events.forEach((event, i) => {
    const time = Date.parse(event.time);
    args.push("0", `${event.id}|${Number.isNaN(time) ? 0 : time}|${jsons[i]}`);
  });
  return args;
}

/** The stream entry's fields (see lib/bridge/wire.ts): the batch's types, its events. */
function entryFields(events: CloudEvent[], jsons: string[]): string[] {
  const types = [...new Set(events.map((event) => event.type))];
  return [TYPES_FIELD, types.join("\n"), EVENTS_FIELD, `[${jsons.join(",")}]`];
}

/** One message per run of events of one type and origin: `[channel, message]`. */
function broadcasts(mirror: EventMirror, events: CloudEvent[], jsons: string[]): string[][] {
  const out: string[][] = [];
  let first = 0;
  events.forEach((event, i) => {
    const next = events[i + 1];
    if (next && next.type === event.type && next.origin === event.origin) return;
    const json = `[${jsons.slice(first, i + 1).join(",")}]`;
    out.push([mirror.channels + event.type, encodeBroadcast(event.origin, json)]);
    first = i + 1;
  });
  return out;
}

/**
 * Appends events; an event already stored (same id and content: a retried write) is kept once.
 *
 * @example
 * ```ts
 * await appendEvents(ctx, [createEvent({ type: "file.created", source: "/un/api" })]);
 * ```
 */
export async function appendEvents(ctx: RedisContext, events: CloudEvent[]): Promise<void> {
  if (events.length === 0) return;
  const context = { op: "appendEvents" };
  const jsons = events.map((event) => JSON.stringify(event));
  const log = ctx.keys.eventLog;
  const mirror = ctx.mirror;
  if (!mirror) {
    await guarded(context, () => ctx.redis.zadd(log, ...logArgs(events, jsons)));
    return;
  }
  const fields = entryFields(events, jsons);
  const tx = ctx.redis.multi()
    .zadd(log, ...logArgs(events, jsons))
    .xadd(mirror.stream, "NOMKSTREAM", "MAXLEN", "~", String(mirror.maxLen), "*", ...fields);
  for (const [channel, message] of broadcasts(mirror, events, jsons)) tx.publish(channel, message);
  const [, entry] = await execAll(context, tx);
  if (entry === null) await firstEntry(ctx, mirror, fields);
}

/**
 * The stream did not exist (a new Redis, or it was deleted): it is made with
 * the hooks' group first, or the group, made later at `$`, would skip this
 * entry and its hooks would never run.
 */
async function firstEntry(ctx: RedisContext, mirror: EventMirror, fields: string[]): Promise<void> {
  const context = { op: "appendEvents" };
  try {
    await ctx.redis.xgroup("CREATE", mirror.stream, mirror.group, "0", "MKSTREAM");
  } catch (error) {
    // Another process made it meanwhile.
    if (!String(error).includes("BUSYGROUP")) throw storeError(error, context);
  }
  await guarded(
    context,
    () => ctx.redis.xadd(mirror.stream, "MAXLEN", "~", String(mirror.maxLen), "*", ...fields),
  );
}

/**
 * Events after `query.after` whose type matches `query.type`, oldest first.
 *
 * @example
 * ```ts
 * const events = await eventHistory(ctx, { type: "file.*", limit: 50 });
 * ```
 */
export async function eventHistory(ctx: RedisContext, query: EventQuery): Promise<CloudEvent[]> {
  const matches = query.type === undefined ? null : compilePattern(query.type);
  const out: CloudEvent[] = [];
  let after = query.after ?? "";
  while (out.length < query.limit) {
    const want = matches ? HISTORY_PAGE : query.limit - out.length;
    const page = asList(
      await runScript(ctx, "history", [ctx.keys.eventLog], [after, String(want)], {
        op: "eventHistory",
      }),
      "eventHistory",
    ) as string[];
    for (let i = 0; i + 1 < page.length && out.length < query.limit; i += 2) {
      const event = JSON.parse(page[i + 1]) as CloudEvent;
      if (!matches || matches(event.type)) out.push(event);
    }
    if (page.length < want * 2) break;
    after = page[page.length - 2];
  }
  return out;
}

/**
 * Removes events older than `cutoffMs` (by `time`) and the oldest beyond `maxEvents`.
 *
 * @example
 * ```ts
 * const removed = await trimEvents(ctx, Date.now() - 86_400_000, 10_000);
 * ```
 */
export async function trimEvents(
  ctx: RedisContext,
  cutoffMs: number,
  maxEvents: number,
): Promise<number> {
  let total = 0;
  for (;;) {
    const removed = Number(
      await runScript(
        ctx,
        "trimEvents",
        [ctx.keys.eventLog],
        [String(cutoffMs), String(maxEvents), String(TRIM_BATCH)],
        { op: "trim" },
      ),
    );
    total += removed;
    if (removed < TRIM_BATCH) return total;
  }
}
