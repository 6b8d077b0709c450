/**
 * The event log: idempotent appends, and history reads in the order events
 * were appended (rowid), after an event and by type pattern.
 *
 * A row's body is the event without what the row's columns already hold (id,
 * type, and the time when `time_ms` gives it back exactly) and without the
 * envelope's constant fields (`specversion` 1.0, `datacontenttype`
 * application/json): a `task.*` event is ~250 bytes instead of ~400. Event
 * rows are half of what a busy pool writes to the WAL, so this is ~15 % of
 * its pages. A field the event did not have is stored as `null`; a body that
 * has an `id` was stored whole (before this) and is read as it is.
 */

import type { SQLOutputValue } from "node:sqlite";
import type { CloudEvent } from "../../events/cloud-event.ts";
import { compilePattern } from "../../events/wildcard.ts";
import type { EventQuery } from "../types.ts";
import type { SQLInputValue } from "node:sqlite";
import type { Params, Sql } from "./statements.ts";

/** Rows per INSERT statement: one statement for many rows costs far less than one each. */
const ROWS_PER_INSERT = 32;

/** The INSERT of `n` rows, made once per size (its text is the statement cache's key). */
const INSERTS: string[] = [];
function insertOf(n: number): string {
  return INSERTS[n] ??= "INSERT OR IGNORE INTO events (id, type, time_ms, body) VALUES " +
    Array(n).fill("(?, ?, ?, ?)").join(", ");
}

/**
 * Appends events; an id already stored is ignored (so a re-delivered event is
 * logged once).
 */
export function appendEventRows(sql: Sql, events: readonly CloudEvent[]): void {
  for (let from = 0; from < events.length; from += ROWS_PER_INSERT) {
    const to = Math.min(events.length, from + ROWS_PER_INSERT);
    const values: SQLInputValue[] = [];
    for (let i = from; i < to; i++) {
      const event = events[i];
      const timeMs = eventTimeMs(event);
      values.push(event.id, event.type, timeMs, bodyOf(event, timeMs));
    }
    sql.runValues(insertOf(to - from), values);
  }
}

/**
 * Events after `after` whose type matches `type`, oldest first, at most `limit`.
 * `after` found in the log: what was appended after it; not found (trimmed, or
 * never logged): the events with a greater id. An exact type is looked up by
 * index; a wildcard pattern walks the log and stops as soon as `limit` matched.
 */
export function readEventHistory(sql: Sql, query: EventQuery): CloudEvent[] {
  const limit = Math.max(0, Math.floor(query.limit));
  if (limit === 0) return [];
  const matches = query.type === undefined ? null : compilePattern(query.type);
  const params: Params = {};
  let where = "1";
  if (query.after !== undefined) {
    const anchor = sql.get("SELECT rowid AS seq FROM events WHERE id = :id", { id: query.after });
    if (anchor) {
      where = "rowid > :seq";
      params.seq = Number(anchor.seq);
    } else {
      where = "id > :after";
      params.after = query.after;
    }
  }
  if (query.type !== undefined && !query.type.includes("*")) {
    where += " AND type = :type";
    params.type = query.type;
  }
  // Read in pages with `all()`, not `iterate()`: Deno's `StatementSync.iterate`
  // ends quietly where SQLite reports an error (a damaged page), which would
  // pass a cut-short history off as the whole; `all()` throws.
  const page = Math.min(Math.max(limit, 100), 1_000);
  const events: CloudEvent[] = [];
  let cursor = -1;
  for (;;) {
    const rows = sql.all(
      `SELECT rowid AS seq, id, type, time_ms, body FROM events WHERE ${where}
       AND rowid > :cursor ORDER BY rowid LIMIT :page`,
      { ...params, cursor, page },
    );
    for (const row of rows) {
      if (matches !== null && !matches(String(row.type))) continue;
      events.push(eventOf(row.id, row.type, row.time_ms, row.body));
      if (events.length >= limit) return events;
    }
    if (rows.length < page) break;
    cursor = Number(rows[rows.length - 1].seq);
  }
  return events;
}

/**
 * Removes events older than `minTimeMs` and then the oldest beyond `maxEvents`;
 * returns how many were removed.
 */
export function trimEventRows(sql: Sql, minTimeMs: number, maxEvents: number): number {
  let removed = sql.run("DELETE FROM events WHERE time_ms < :minTimeMs", { minTimeMs });
  const total = Number(sql.get("SELECT count(*) AS n FROM events")?.n ?? 0);
  const excess = total - Math.max(0, maxEvents);
  if (excess > 0) {
    removed += sql.run(
      "DELETE FROM events WHERE rowid IN (SELECT rowid FROM events ORDER BY rowid LIMIT :excess)",
      { excess },
    );
  }
  return removed;
}

/** The last time read or written, and its ms: the events of one millisecond share their time. */
let lastTime = new Date(0).toISOString();
let lastMs = 0;

/** The ISO text of `ms`, as `Date#toISOString` writes it (and `createEvent` stamps events). */
function isoOf(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastTime = new Date(ms).toISOString();
  }
  return lastTime;
}

/** The event's `time` in epoch ms; an unreadable time counts as the epoch (trimmed first). */
function eventTimeMs(event: CloudEvent): number {
  if (event.time === lastTime) return lastMs;
  const ms = Date.parse(event.time);
  return Number.isFinite(ms) ? ms : 0;
}

/** The envelope fields a compact body leaves out when they have these values. */
const SPEC_VERSION = "1.0";
const CONTENT_TYPE = "application/json";

/** What a row stores of an event besides its columns (see the module comment). */
function bodyOf(event: CloudEvent, timeMs: number): string {
  const { id: _id, type: _type, specversion, time, datacontenttype, ...rest } = event;
  const body: Record<string, unknown> = rest;
  if (specversion !== SPEC_VERSION) body.specversion = specversion ?? null;
  if (time === undefined || time !== isoOf(timeMs)) body.time = time ?? null;
  if (datacontenttype !== CONTENT_TYPE) body.datacontenttype = datacontenttype ?? null;
  return JSON.stringify(body);
}

/** The event a row holds, its fields in the order `createEvent` gives them. */
function eventOf(
  id: SQLOutputValue,
  type: SQLOutputValue,
  timeMs: SQLOutputValue,
  body: SQLOutputValue,
): CloudEvent {
  const stored = JSON.parse(String(body)) as Record<string, unknown>;
  if ("id" in stored) return stored as unknown as CloudEvent;
  const event: Record<string, unknown> = { id: String(id) };
  if ("source" in stored) event.source = stored.source;
  event.specversion = SPEC_VERSION;
  event.type = String(type);
  event.time = isoOf(Number(timeMs));
  event.datacontenttype = CONTENT_TYPE;
  Object.assign(event, stored);
  // null: the event had no such field.
  for (const field of ["specversion", "time", "datacontenttype"]) {
    if (event[field] === null) delete event[field];
  }
  return event as unknown as CloudEvent;
}
