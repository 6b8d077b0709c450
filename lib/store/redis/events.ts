/**
 * The event log on Redis: one ZSET (`ev:log`), every score 0, each member
 * `<id>|<time ms>|<CloudEvent JSON>`. Members sort by the event's ULID, so
 * history and `after=<id>` are one lexicographic range, the oldest are trimmed
 * by rank, and an event appended again is found by its member (a retried
 * write sends the very same one). One structure, one write per batch: what
 * the log costs Redis per event is one member.
 *
 * With a mirror (the Redis bridge), the same script also appends the new
 * events to the bridge's stream and publishes them: each event is encoded and
 * sent once, and only an event the log did not have yet goes out.
 */

import type { CloudEvent } from "../../events.ts";
import { compilePattern } from "../../wildcard.ts";
import type { EventQuery } from "../types.ts";
import { type RedisContext, runScript } from "./context.ts";
import { asList } from "./replies.ts";

/** Events read per round trip when a type filter drops some of them. */
const HISTORY_PAGE = 500;
/** Events removed per script call, so a trim never blocks Redis for long. */
const TRIM_BATCH = 1000;

/** Appends to the log and, with a mirror, to the bridge's stream and channels. */
function appendArgs(ctx: RedisContext, events: CloudEvent[]): string[] {
  const mirror = ctx.mirror;
  const args = mirror ? [String(mirror.maxLen), mirror.group, mirror.channels] : ["", "", ""];
  for (const event of events) {
    const time = Date.parse(event.time);
    args.push(
      event.id,
      String(Number.isNaN(time) ? 0 : time),
      JSON.stringify(event),
      event.type,
      event.origin,
    );
  }
  return args;
}

/**
 * Appends events; an event already stored (same id and content: a retried write) is ignored.
 *
 * @example
 * ```ts
 * await appendEvents(ctx, [createEvent({ type: "file.created", source: "/un/api" })]);
 * ```
 */
export async function appendEvents(ctx: RedisContext, events: CloudEvent[]): Promise<void> {
  if (events.length === 0) return;
  // The stream key is a real key of the script even without a mirror.
  const keys = [ctx.keys.eventLog, ctx.mirror?.stream ?? ctx.keys.eventLog];
  await runScript(ctx, "appendEvents", keys, appendArgs(ctx, events), { op: "appendEvents" });
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
