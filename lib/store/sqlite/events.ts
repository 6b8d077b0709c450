/**
 * The event log: idempotent appends and history reads by id (ULIDs sort by
 * time) and type pattern.
 */

import type { CloudEvent } from "../../events.ts";
import { compilePattern } from "../../wildcard.ts";
import type { EventQuery } from "../types.ts";
import type { Params, Sql } from "./statements.ts";

/**
 * Appends events; an id already stored is ignored (so a re-delivered event is
 * logged once).
 *
 * @example
 * ```ts
 * appendEventRows(sql, [createEvent({ type: "file.created", source: "/un/api" })]);
 * ```
 */
export function appendEventRows(sql: Sql, events: readonly CloudEvent[]): void {
  for (const event of events) {
    sql.run(
      `INSERT OR IGNORE INTO events (id, type, time_ms, body) VALUES (:id, :type, :time, :body)`,
      { id: event.id, type: event.type, time: eventTimeMs(event), body: JSON.stringify(event) },
    );
  }
}

/**
 * Events after `after` whose type matches `type`, oldest first, at most `limit`.
 * An exact type is looked up by index; a wildcard pattern walks the log in id
 * order and stops as soon as `limit` events matched.
 *
 * @example
 * ```ts
 * readEventHistory(sql, { type: "file.*", limit: 50 });
 * ```
 */
export function readEventHistory(sql: Sql, query: EventQuery): CloudEvent[] {
  const limit = Math.max(0, Math.floor(query.limit));
  if (limit === 0) return [];
  const matches = query.type === undefined ? null : compilePattern(query.type);
  const params: Params = { after: query.after ?? "" };
  let where = "id > :after";
  if (query.type !== undefined && !query.type.includes("*")) {
    where += " AND type = :type";
    params.type = query.type;
  }
  const events: CloudEvent[] = [];
  for (
    const row of sql.iterate(`SELECT type, body FROM events WHERE ${where} ORDER BY id`, params)
  ) {
    if (matches !== null && !matches(String(row.type))) continue;
    events.push(JSON.parse(String(row.body)) as CloudEvent);
    if (events.length >= limit) break;
  }
  return events;
}

/**
 * Removes events older than `minTimeMs` and then the oldest beyond `maxEvents`;
 * returns how many were removed.
 *
 * @example
 * ```ts
 * trimEventRows(sql, now - 7 * 86_400_000, 100_000);
 * ```
 */
export function trimEventRows(sql: Sql, minTimeMs: number, maxEvents: number): number {
  let removed = sql.run("DELETE FROM events WHERE time_ms < :minTimeMs", { minTimeMs });
  const total = Number(sql.get("SELECT count(*) AS n FROM events")?.n ?? 0);
  const excess = total - Math.max(0, maxEvents);
  if (excess > 0) {
    removed += sql.run(
      "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT :excess)",
      { excess },
    );
  }
  return removed;
}

/** The event's `time` in epoch ms; an unreadable time counts as the epoch (trimmed first). */
function eventTimeMs(event: CloudEvent): number {
  const ms = Date.parse(event.time);
  return Number.isFinite(ms) ? ms : 0;
}
