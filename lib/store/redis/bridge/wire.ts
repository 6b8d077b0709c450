/**
 * How events travel through Redis. The event log's append writes them
 * (lib/store/redis/events.ts), one batch at a time:
 * - a stream entry per batch (the stream is the event log): field `t`, the
 *   batch's distinct event types joined by newlines (so a consumer skips an
 *   entry no hook wants without parsing it), field `e`, the events as a JSON
 *   array, and for retention `n`, their count, and `ms`, the newest one's time;
 * - on pub/sub, per run of events of one type: the origin, a newline, then the
 *   JSON array, so a process drops its own events by their first bytes
 *   instead of parsing them (a process that follows a type hears its own
 *   events of that type too).
 * Entries and messages of earlier versions (one event as a JSON object) are
 * still read. Replies of `XRANGE`, `XREADGROUP` and `XAUTOCLAIM` are turned into
 * {@link StreamEntry} lists here, so the rest of the bridge never touches raw
 * reply arrays.
 */

import type { Redis } from "ioredis";
import type { CloudEvent } from "../../../events/cloud-event.ts";

/**
 * The stream entry field that holds the events' JSON.
 */
export const EVENTS_FIELD = "e";

/**
 * The stream entry field that lists the entry's event types, one per line.
 */
export const TYPES_FIELD = "t";

/**
 * The stream entry field that holds how many events the entry has (retention by count).
 */
export const COUNT_FIELD = "n";

/**
 * The stream entry field that holds its newest event's time in ms (retention by age).
 */
export const NEWEST_FIELD = "ms";

/**
 * One stream entry.
 */
export interface StreamEntry {
  /** The stream entry id (`<ms>-<seq>`), what `XACK` takes. */
  id: string;
  /** The event types it holds; null when the entry does not say (written by an earlier version). */
  types: string[] | null;
  /**
   * Its events' JSON (see {@link decodeEvents}), as read (replies read as
   * Buffers are decoded only when needed); null when it holds none (deleted, foreign).
   */
  payload: string | Uint8Array | null;
}

/**
 * Events as they travel: a JSON array.
 */
export function encodeEvents(events: CloudEvent[]): string {
  return `[${events.map((event) => JSON.stringify(event)).join(",")}]`;
}

/**
 * Parses the JSON of one event or an array of them, keeping only objects with
 * the string fields the bridge relies on (`id`, `type`, `origin`).
 */
export function decodeEvents(text: string | Uint8Array): CloudEvent[] {
  let value: unknown;
  try {
    value = JSON.parse(typeof text === "string" ? text : UTF8.decode(text));
  } catch {
    return [];
  }
  const list = Array.isArray(value) ? value : [value];
  return list.filter(isEvent);
}

function isEvent(value: unknown): value is CloudEvent {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const { id, type, origin } = value as Record<string, unknown>;
  return typeof id === "string" && typeof type === "string" && typeof origin === "string";
}

/**
 * A pub/sub message: `<origin>\n<json>`. `JSON.stringify` never writes a raw
 * newline, so the last newline of a message ends its origin.
 */
export function encodeBroadcast(origin: string, json: string): string {
  return `${origin}\n${json}`;
}

/**
 * True when a pub/sub message was published by `origin`, told from its first
 * bytes, without parsing the events (a plain-JSON message never is).
 *
 * @example
 * ```ts
 * isFrom(encodeBroadcast("p1", "[]"), "p1"); // true
 * isFrom(encodeBroadcast("p12", "[]"), "p1"); // false
 * ```
 */
export function isFrom(message: string, origin: string): boolean {
  return message.charCodeAt(origin.length) === NEWLINE && message.startsWith(origin) &&
    // Exact even for an id holding a newline itself (`UN_PROCESS_ID` can be anything).
    message.lastIndexOf("\n") === origin.length;
}

/**
 * The events of a pub/sub message whose `origin` matches its origin line
 * (none when it is unreadable). A message that is plain JSON (no origin line)
 * is read as such.
 */
export function decodeBroadcast(message: string): CloudEvent[] {
  const first = message.charCodeAt(0);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) return decodeEvents(message);
  const end = message.lastIndexOf("\n");
  if (end < 0) return [];
  const origin = message.slice(0, end);
  return decodeEvents(message.slice(end + 1)).filter((event) => event.origin === origin);
}

const UTF8 = new TextDecoder();
const NEWLINE = 10;
const OPEN_BRACE = 123;
const OPEN_BRACKET = 91;

/** A reply value as text (replies are strings, or Buffers when read with `callBuffer`). */
function text(value: unknown): string {
  return value instanceof Uint8Array ? UTF8.decode(value) : String(value);
}

/** `[id, [field, value, ...] | null]` as Redis returns one entry. */
function entryOf(raw: unknown): StreamEntry | null {
  if (!Array.isArray(raw) || (typeof raw[0] !== "string" && !(raw[0] instanceof Uint8Array))) {
    return null;
  }
  const fields = raw[1];
  let types: string[] | null = null;
  let payload: string | Uint8Array | null = null;
  if (Array.isArray(fields)) {
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = text(fields[i]);
      const value = fields[i + 1];
      if (name === EVENTS_FIELD) payload = value instanceof Uint8Array ? value : String(value);
      else if (name === TYPES_FIELD) types = text(value).split("\n");
    }
  }
  return { id: text(raw[0]), types, payload };
}

/**
 * The entries of an `XRANGE` reply.
 */
export function streamEntries(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw)) return [];
  return raw.map(entryOf).filter((e): e is StreamEntry => e !== null);
}

/**
 * A stream read to its end from `start` (`-`, an entry id, or `(<id>` for
 * after it), one page of at most `count` entries at a time (`XRANGE`).
 */
export async function* readStream(
  redis: Redis,
  stream: string,
  start: string,
  count: number,
): AsyncGenerator<StreamEntry[]> {
  for (;;) {
    const page = streamEntries(await redis.xrange(stream, start, "+", "COUNT", count));
    if (page.length) yield page;
    if (page.length < count) return;
    start = `(${page[page.length - 1].id}`;
  }
}

/**
 * False when an entry holds no events, or says (by its types) that none is of
 * a type `wants` takes, so its events need not be parsed; `wants` left out
 * takes every type.
 *
 * @example
 * ```ts
 * if (!mayHold(entry, (type) => hooks.wants(type))) continue; // acknowledge, do not parse
 * ```
 */
export function mayHold(entry: StreamEntry, wants?: (type: string) => boolean): boolean {
  if (entry.payload === null) return false;
  return !wants || entry.types === null || entry.types.some(wants);
}

/**
 * Epoch ms of a `TIME` reply (seconds, microseconds): Redis's clock, the
 * same for every machine, and the one stream entry ids hold.
 */
export function timeReplyMs(time: readonly (string | number)[]): number {
  return Number(time[0]) * 1_000 + Math.floor(Number(time[1]) / 1_000);
}

/**
 * Entries of an `XREADGROUP` reply on one stream (`null` when the block timed out).
 */
export function readGroupEntries(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  return reply.flatMap((stream) => Array.isArray(stream) ? streamEntries(stream[1]) : []);
}

/**
 * An `XAUTOCLAIM` reply: where to continue (`"0-0"` = done) and the entries
 * now owned by the caller. Entries trimmed from the stream come back with a
 * null payload on Redis 6.2 (Redis 7 drops them from the pending list itself).
 */
export function autoClaimReply(reply: unknown): { next: string; entries: StreamEntry[] } {
  if (!Array.isArray(reply) || reply[0] === null || reply[0] === undefined) {
    return { next: "0-0", entries: [] };
  }
  return { next: text(reply[0]), entries: streamEntries(reply[1]) };
}
