/**
 * What the PostgreSQL source reads from a trigger notification and what it
 * publishes: the `db.changed` CloudEvent.
 */

import type { CloudEvent, EventPriority, Json } from "../events/cloud-event.ts";
import { changeEvent as sourceChangeEvent } from "./poller.ts";
import type { WatchedTable } from "./postgres-sql.ts";

/** Row operations as `db.changed` reports them; `UPSERT` comes from catch-up. */
export type DbOperation = "INSERT" | "UPDATE" | "DELETE" | "UPSERT";

/** One trigger notification, parsed. */
export interface RowChange {
  schema: string;
  table: string;
  operation: "INSERT" | "UPDATE" | "DELETE";
  /** Primary-key values; null when they were too big for a NOTIFY payload. */
  pk: Record<string, Json> | null;
  /** The catch-up column's value (text of its JSON form), when configured. */
  cursor: string | null;
}

function isRecord(value: unknown): value is Record<string, Json> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Parses a trigger payload; null when it is not one (something else
 * notified the channel).
 */
export function parseChange(payload: string): RowChange | null {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return null;
  }
  if (!isRecord(value)) return null;
  const { schema, table, op, pk, cursor } = value;
  if (typeof schema !== "string" || typeof table !== "string") return null;
  if (op !== "INSERT" && op !== "UPDATE" && op !== "DELETE") return null;
  if (pk !== null && !isRecord(pk)) return null;
  if (cursor !== null && cursor !== undefined && typeof cursor !== "string") return null;
  return { schema, table, operation: op, pk, cursor: cursor ?? null };
}

/** What {@link changeEvent} needs to know. */
export interface ChangeInit {
  sourceId: string;
  priority: EventPriority;
  table: Pick<WatchedTable, "schema" | "name" | "key">;
  operation: DbOperation;
  pk: Record<string, Json> | null;
  /** Found by a catch-up query rather than notified. */
  catchUp: boolean;
}

/**
 * The `db.changed` event of one row change. Its subject is `schema.table`;
 * `data` is `{ table, schema, operation, pk }`, plus `catchUp: true` when a
 * catch-up query found it.
 */
export function changeEvent(init: ChangeInit): CloudEvent {
  const { table, operation, pk } = init;
  const data: Record<string, Json> = { table: table.name, schema: table.schema, operation, pk };
  if (init.catchUp) data.catchUp = true;
  return sourceChangeEvent(
    { id: init.sourceId, priority: init.priority },
    { type: "db.changed", subject: table.key, data },
  );
}
