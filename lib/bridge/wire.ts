/**
 * How events travel through Redis: the CloudEvent as JSON in the stream
 * entry's `e` field; on pub/sub, the event's origin, a newline, then the same
 * JSON, so a process drops its own events by their first bytes instead of
 * parsing them (every process hears every event, its own included). Replies of `XREADGROUP` and
 * `XAUTOCLAIM` are turned into {@link StreamEntry} lists here, so the rest of
 * the bridge never touches raw reply arrays.
 */

import type { CloudEvent } from "../events.ts";

/**
 * The stream entry field that holds the event's JSON.
 *
 * @example
 * ```ts
 * await redis.xadd(keys.stream, "*", EVENT_FIELD, encodeEvent(event));
 * ```
 */
export const EVENT_FIELD = "e";

/**
 * One stream entry.
 *
 * @example
 * ```ts
 * const entry: StreamEntry = { id: "1700000000000-0", event: null }; // unreadable: acknowledge and drop
 * ```
 */
export interface StreamEntry {
  /** The stream entry id (`<ms>-<seq>`), what `XACK` takes. */
  id: string;
  /** The event, or null when the entry holds no readable event (deleted, foreign, corrupt). */
  event: CloudEvent | null;
}

/**
 * The JSON an event travels as.
 *
 * @example
 * ```ts
 * await redis.xadd(keys.stream, "MAXLEN", "~", 100_000, "*", EVENT_FIELD, encodeEvent(event));
 * ```
 */
export function encodeEvent(event: CloudEvent): string {
  return JSON.stringify(event);
}

/**
 * Parses an event's JSON; null unless it is an object with the string fields
 * the bridge relies on (`id`, `type`, `origin`).
 *
 * @example
 * ```ts
 * decodeEvent('{"id":"01J","type":"x.y","origin":"p1"}')?.type; // "x.y"
 * decodeEvent("nope"); // null
 * ```
 */
export function decodeEvent(text: string): CloudEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const { id, type, origin } = value as Record<string, unknown>;
  if (typeof id !== "string" || typeof type !== "string" || typeof origin !== "string") {
    return null;
  }
  return value as CloudEvent;
}

/**
 * The pub/sub message of an event: `<origin>\n<json>`. `JSON.stringify` never
 * writes a raw newline, so the last newline of a message ends its origin.
 *
 * @example
 * ```ts
 * const json = encodeEvent(event);
 * redis.publish(keys.channel(event.type), encodeBroadcast(event.origin, json));
 * ```
 */
export function encodeBroadcast(origin: string, json: string): string {
  return `${origin}\n${json}`;
}

/**
 * True when a pub/sub message was published by `origin`, told from its first
 * bytes, without parsing the event (a plain-JSON message never is).
 *
 * @example
 * ```ts
 * isFrom(encodeBroadcast("p1", "{}"), "p1"); // true
 * isFrom(encodeBroadcast("p12", "{}"), "p1"); // false
 * ```
 */
export function isFrom(message: string, origin: string): boolean {
  return message.charCodeAt(origin.length) === NEWLINE && message.startsWith(origin) &&
    // Exact even for an id holding a newline itself (`UN_PROCESS_ID` can be anything).
    message.lastIndexOf("\n") === origin.length;
}

/**
 * The event of a pub/sub message, or null when it is unreadable or its origin
 * line does not match the event's `origin`. A message that is plain JSON (no
 * origin line) is read as such.
 *
 * @example
 * ```ts
 * decodeBroadcast(encodeBroadcast("p1", '{"id":"01J","type":"x.y","origin":"p1"}'))?.type; // "x.y"
 * decodeBroadcast('{"id":"01J","type":"x.y","origin":"p1"}')?.origin; // "p1"
 * ```
 */
export function decodeBroadcast(message: string): CloudEvent | null {
  if (message.charCodeAt(0) === OPEN_BRACE) return decodeEvent(message);
  const end = message.lastIndexOf("\n");
  if (end < 0) return null;
  const event = decodeEvent(message.slice(end + 1));
  return event !== null && event.origin.length === end && message.startsWith(event.origin)
    ? event
    : null;
}

const NEWLINE = 10;
const OPEN_BRACE = 123;

/** `[id, [field, value, ...] | null]` as Redis returns one entry. */
function entryOf(raw: unknown): StreamEntry | null {
  if (!Array.isArray(raw) || typeof raw[0] !== "string") return null;
  const fields = raw[1];
  let event: CloudEvent | null = null;
  if (Array.isArray(fields)) {
    for (let i = 0; i + 1 < fields.length; i += 2) {
      if (fields[i] === EVENT_FIELD) event = decodeEvent(String(fields[i + 1]));
    }
  }
  return { id: raw[0], event };
}

function entriesOf(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw)) return [];
  return raw.map(entryOf).filter((e): e is StreamEntry => e !== null);
}

/**
 * Entries of an `XREADGROUP` reply on one stream (`null` when the block timed out).
 *
 * @example
 * ```ts
 * const entries = readGroupEntries(await reader.xreadgroup("GROUP", g, c, "STREAMS", key, ">"));
 * ```
 */
export function readGroupEntries(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  return reply.flatMap((stream) => Array.isArray(stream) ? entriesOf(stream[1]) : []);
}

/**
 * An `XAUTOCLAIM` reply: where to continue (`"0-0"` = done) and the entries
 * now owned by the caller. Entries trimmed from the stream come back with a
 * null event on Redis 6.2 (Redis 7 drops them from the pending list itself).
 *
 * @example
 * ```ts
 * const { next, entries } = autoClaimReply(await redis.xautoclaim(key, g, c, 30_000, "0-0"));
 * ```
 */
export function autoClaimReply(reply: unknown): { next: string; entries: StreamEntry[] } {
  if (!Array.isArray(reply)) return { next: "0-0", entries: [] };
  return { next: typeof reply[0] === "string" ? reply[0] : "0-0", entries: entriesOf(reply[1]) };
}
