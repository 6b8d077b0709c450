/**
 * Source definitions, the small state each scanner keeps, and the fs file index.
 */

import type { Json } from "../../events/cloud-event.ts";
import type { FileEntry, StoredSource } from "../types.ts";
import { json, num, type Row, type Sql, text } from "./statements.ts";

function sourceFromRow(row: Row): StoredSource {
  return {
    id: text(row, "id"),
    kind: text(row, "kind"),
    enabled: num(row, "enabled") !== 0,
    spec: json<Record<string, Json>>(row, "spec") ?? {},
    origin: text(row, "origin") as StoredSource["origin"],
    createdAt: num(row, "created_at"),
    updatedAt: num(row, "updated_at"),
  };
}

/**
 * Every source, oldest first (createdAt, then id).
 *
 * @example
 * ```ts
 * listSourceRows(sql).map((s) => s.id);
 * ```
 */
export function listSourceRows(sql: Sql): StoredSource[] {
  return sql.all("SELECT * FROM sources ORDER BY created_at, id").map(sourceFromRow);
}

/**
 * One source, or null.
 *
 * @example
 * ```ts
 * readSource(sql, "inbox")?.kind; // "fs"
 * ```
 */
export function readSource(sql: Sql, id: string): StoredSource | null {
  const row = sql.get("SELECT * FROM sources WHERE id = :id", { id });
  return row === undefined ? null : sourceFromRow(row);
}

/**
 * Creates or replaces a source by id.
 *
 * @example
 * ```ts
 * writeSource(sql, { id: "inbox", kind: "fs", enabled: true, spec, origin: "api", createdAt: now, updatedAt: now });
 * ```
 */
export function writeSource(sql: Sql, source: StoredSource): void {
  sql.run(
    `INSERT INTO sources (id, kind, enabled, spec, origin, created_at, updated_at)
     VALUES (:id, :kind, :enabled, :spec, :origin, :createdAt, :updatedAt)
     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, enabled = excluded.enabled,
       spec = excluded.spec, origin = excluded.origin, created_at = excluded.created_at,
       updated_at = excluded.updated_at`,
    {
      id: source.id,
      kind: source.kind,
      enabled: source.enabled ? 1 : 0,
      spec: JSON.stringify(source.spec),
      origin: source.origin,
      createdAt: source.createdAt,
      updatedAt: source.updatedAt,
    },
  );
}

/**
 * Removes a source with its scanner state and file index; true when it existed.
 *
 * @example
 * ```ts
 * removeSource(sql, "inbox"); // true
 * ```
 */
export function removeSource(sql: Sql, id: string): boolean {
  const existed = sql.run("DELETE FROM sources WHERE id = :id", { id }) > 0;
  sql.run("DELETE FROM source_state WHERE source_id = :id", { id });
  sql.run("DELETE FROM source_files WHERE source_id = :id", { id });
  return existed;
}

/**
 * A scanner's saved value for `key`, or null.
 *
 * @example
 * ```ts
 * readSourceState(sql, "blog", "etag"); // "W/\"abc\""
 * ```
 */
export function readSourceState(sql: Sql, sourceId: string, key: string): Json | null {
  const row = sql.get("SELECT value FROM source_state WHERE source_id = :sourceId AND key = :key", {
    sourceId,
    key,
  });
  return row === undefined ? null : json<Json>(row, "value");
}

/**
 * Saves (or with null, forgets) a scanner's value for `key`.
 *
 * @example
 * ```ts
 * writeSourceState(sql, "blog", "etag", "W/\"abc\"");
 * ```
 */
export function writeSourceState(
  sql: Sql,
  sourceId: string,
  key: string,
  value: Json | null,
): void {
  if (value === null) {
    sql.run("DELETE FROM source_state WHERE source_id = :sourceId AND key = :key", {
      sourceId,
      key,
    });
    return;
  }
  sql.run(
    `INSERT INTO source_state (source_id, key, value) VALUES (:sourceId, :key, :value)
     ON CONFLICT (source_id, key) DO UPDATE SET value = excluded.value`,
    { sourceId, key, value: JSON.stringify(value) },
  );
}

/**
 * The files a source's scanner knows, by path.
 *
 * @example
 * ```ts
 * listFileRows(sql, "inbox"); // [{ path: "a.txt", size: 3, mtimeMs: ... }]
 * ```
 */
export function listFileRows(sql: Sql, sourceId: string): FileEntry[] {
  return sql.all(
    "SELECT path, size, mtime_ms FROM source_files WHERE source_id = :sourceId ORDER BY path",
    { sourceId },
  ).map((row) => ({
    path: text(row, "path"),
    size: num(row, "size"),
    mtimeMs: num(row, "mtime_ms"),
  }));
}

/**
 * Upserts file entries by path.
 *
 * @example
 * ```ts
 * writeFiles(sql, "inbox", [{ path: "a.txt", size: 3, mtimeMs: 1 }]);
 * ```
 */
export function writeFiles(sql: Sql, sourceId: string, files: readonly FileEntry[]): void {
  for (const file of files) {
    sql.run(
      `INSERT INTO source_files (source_id, path, size, mtime_ms)
       VALUES (:sourceId, :path, :size, :mtimeMs)
       ON CONFLICT (source_id, path) DO UPDATE SET size = excluded.size,
         mtime_ms = excluded.mtime_ms`,
      { sourceId, path: file.path, size: file.size, mtimeMs: file.mtimeMs },
    );
  }
}

/**
 * Forgets file entries by path.
 *
 * @example
 * ```ts
 * removeFiles(sql, "inbox", ["a.txt"]);
 * ```
 */
export function removeFiles(sql: Sql, sourceId: string, paths: readonly string[]): void {
  for (const path of paths) {
    sql.run("DELETE FROM source_files WHERE source_id = :sourceId AND path = :path", {
      sourceId,
      path,
    });
  }
}
