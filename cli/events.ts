/**
 * `un events`: the most recent events (table or `--json`), and with
 * `--follow` every new one as it happens (SSE, resumed after the last shown).
 */

import { encodeTime } from "ulid";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import { intFlag, parse, positionals } from "./args.ts";
import { errorOf, UnClient, type UnClient as Client, type Wire } from "./client.ts";
import { UnreachableError } from "./errors.ts";
import { brief, printJson, table } from "./format.ts";
import { readSse } from "./sse.ts";

const USAGE = "un events [--type PATTERN] [--limit N] [--follow] [--json]";
const PAGE = 1_000;
/** Windows tried, narrow first, to find the newest events without reading the whole log. */
const WINDOWS_MS = [60_000, 3_600_000, 86_400_000, 30 * 86_400_000];

/** The smallest event id after instant `ms` (ULIDs start with their time). */
function idAfter(ms: number): string {
  return encodeTime(Math.max(0, ms), 10) + "0".repeat(16);
}

async function page(
  client: Client,
  type: string | undefined,
  after: string | undefined,
): Promise<Wire<CloudEvent>[]> {
  const query = { limit: String(PAGE), type: type || undefined, after: after || undefined };
  return (await client.json(client.api.un.events.history.$get({ query }))).events;
}

/**
 * The newest `limit` events, oldest first. History reads forward from a
 * cursor, so look back over widening windows until enough are found, then read
 * that window to its end.
 */
export async function latestEvents(
  client: Client,
  type: string | undefined,
  limit: number,
): Promise<Wire<CloudEvent>[]> {
  const now = Date.now();
  for (const [i, window] of [...WINDOWS_MS, Infinity].entries()) {
    let cursor = Number.isFinite(window) ? idAfter(now - window) : undefined;
    let events = await page(client, type, cursor);
    if (events.length < limit && i < WINDOWS_MS.length) continue;
    let last = events;
    while (last.length === PAGE) {
      cursor = last[last.length - 1].id;
      last = await page(client, type, cursor);
      events = [...events, ...last].slice(-limit);
    }
    return events.slice(-limit);
  }
  return [];
}

function line(event: Wire<CloudEvent>): string {
  return [event.time, event.type, event.subject ?? "-", brief(event.data, 80)].join("  ");
}

function print(events: Wire<CloudEvent>[], json: boolean): void {
  if (json) { for (const event of events) console.log(JSON.stringify(event)); }
}

/** What an `overflow` frame says: why the instance dropped us and the last event it sent. */
interface Overflow {
  reason: string;
  lastEventId: string | null;
}

/**
 * Reads one connection of the stream, printing its events. Resolves with the
 * overflow when the instance dropped us for reading too slowly, or null when
 * the stream ended (or the user interrupted).
 */
async function followOnce(
  client: Client,
  query: { type?: string; after?: string },
  signal: AbortSignal,
  json: boolean,
  onEvent: (id: string) => void,
): Promise<Overflow | null> {
  const res = await client.api.un.events.stream.$get({ query }, {
    init: { signal },
    headers: { accept: "text/event-stream" },
  });
  if (!res.ok || !res.body) throw await errorOf(res);
  try {
    for await (const message of readSse(res.body)) {
      if (message.event === "overflow") return JSON.parse(message.data) as Overflow;
      if (message.event === "error") {
        throw new UnreachableError(client.baseUrl, `the stream failed: ${message.data}`);
      }
      if (message.event !== "message") continue;
      const event = JSON.parse(message.data) as CloudEvent;
      console.log(json ? JSON.stringify(event) : line(event));
      onEvent(event.id);
    }
  } catch (err) {
    // Ctrl-C aborts the read: that is the normal way to end --follow.
    if (signal.aborted) return null;
    if (err instanceof UnreachableError) throw err;
    throw new UnreachableError(client.baseUrl, "the stream broke off");
  }
  return null;
}

/**
 * Follows the live stream until it ends or the user interrupts. When the
 * instance drops us for reading too slowly, says so on stderr and resumes
 * after the last event shown, so nothing is missed.
 */
async function follow(
  client: Client,
  type: string | undefined,
  after: string | undefined,
  json: boolean,
) {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    let cursor = after;
    for (;;) {
      const query = { type: type || undefined, after: cursor || undefined };
      let overflow: Overflow | null;
      try {
        overflow = await followOnce(client, query, controller.signal, json, (id) => cursor = id);
      } catch (err) {
        if (controller.signal.aborted) return;
        throw err;
      }
      if (controller.signal.aborted) return;
      if (!overflow) throw new UnreachableError(client.baseUrl, "the instance closed the stream");
      cursor = overflow.lastEventId ?? cursor;
      console.error(
        `un: fell behind the event stream and was dropped (${overflow.reason}); ` +
          `resuming after ${cursor ?? "the start"}`,
      );
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
}

/**
 * Runs `un events`.
 */
export async function eventsCommand(args: string[]): Promise<number> {
  const { values, positionals: rest } = parse(args, {
    type: { type: "string" },
    limit: { type: "string" },
    follow: { type: "boolean", short: "f" },
    json: { type: "boolean" },
  }, USAGE);
  positionals(rest, 0, USAGE);
  const limit = intFlag(values.limit, "--limit", 1, 10_000) ?? (values.follow ? 10 : 50);
  const json = values.json ?? false;
  const client = UnClient.fromEnv();
  const events = await latestEvents(client, values.type, limit);
  if (json && !values.follow) printJson({ events });
  else if (json) print(events, true);
  else if (values.follow) events.forEach((e) => console.log(line(e)));
  else if (events.length === 0) console.log("no events");
  else {
    console.log(table(
      ["ID", "TIME", "TYPE", "SUBJECT", "DATA"],
      events.map((e) => [e.id, e.time, e.type, e.subject ?? "-", brief(e.data, 50)]),
    ));
  }
  if (values.follow) {
    // Resume right after the last event shown (or from now), so nothing is missed or repeated.
    await follow(client, values.type, events.at(-1)?.id ?? idAfter(Date.now()), json);
  }
  return 0;
}
