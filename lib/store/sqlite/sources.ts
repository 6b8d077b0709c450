/**
 * Source definitions, the small state each scanner keeps, and the fs file
 * index ({@link SqliteSources}, the embedded {@link SourceStore}). Specs are
 * parsed with the config schema as they are read (`readStoredSource`).
 */

import type { Json } from "../../events/cloud-event.ts";
import {
  type FileEntry,
  type ParsedSource,
  readStoredSource,
  type SourceStore,
  type StoredSource,
} from "../source-store.ts";
import type { SqliteRw } from "./access.ts";
import { json, num, type Row, type Sql, text } from "./statements.ts";

function sourceFromRow(row: Row): StoredSource {
  let spec: unknown;
  try {
    spec = json<Json>(row, "spec");
  } catch (error) {
    // Not even JSON: the schema names it as not an object, and the row is still listed.
    spec = String(error);
  }
  return readStoredSource({
    id: text(row, "id"),
    kind: text(row, "kind"),
    enabled: num(row, "enabled") !== 0,
    spec,
    origin: text(row, "origin") as StoredSource["origin"],
    createdAt: num(row, "created_at"),
    updatedAt: num(row, "updated_at"),
  });
}

/** The named parameters of a source row. */
function sourceParams(source: ParsedSource) {
  return {
    id: source.id,
    kind: source.kind,
    enabled: source.enabled ? 1 : 0,
    spec: JSON.stringify(source.spec),
    origin: source.origin,
    createdAt: source.createdAt,
    updatedAt: source.updatedAt,
  };
}

/**
 * Every source, oldest first (createdAt, then id).
 */
export function listSourceRows(sql: Sql): StoredSource[] {
  return sql.all("SELECT * FROM sources ORDER BY created_at, id").map(sourceFromRow);
}

/**
 * One source, or null.
 */
export function readSource(sql: Sql, id: string): StoredSource | null {
  const row = sql.get("SELECT * FROM sources WHERE id = :id", { id });
  return row === undefined ? null : sourceFromRow(row);
}

/**
 * Creates or replaces a source by id.
 */
export function writeSource(sql: Sql, source: ParsedSource): void {
  sql.run(
    `INSERT INTO sources (id, kind, enabled, spec, origin, created_at, updated_at)
     VALUES (:id, :kind, :enabled, :spec, :origin, :createdAt, :updatedAt)
     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, enabled = excluded.enabled,
       spec = excluded.spec, origin = excluded.origin, created_at = excluded.created_at,
       updated_at = excluded.updated_at`,
    sourceParams(source),
  );
}

/**
 * Inserts a source unless its id is taken (one statement, so atomic); null
 * when inserted, the stored one otherwise.
 */
export function insertSourceIfAbsent(sql: Sql, source: ParsedSource): StoredSource | null {
  const inserted = sql.run(
    `INSERT INTO sources (id, kind, enabled, spec, origin, created_at, updated_at)
     VALUES (:id, :kind, :enabled, :spec, :origin, :createdAt, :updatedAt)
     ON CONFLICT (id) DO NOTHING`,
    sourceParams(source),
  );
  return inserted > 0 ? null : readSource(sql, source.id);
}

/**
 * Removes a source with its scanner state and file index; true when it existed.
 */
export function removeSource(sql: Sql, id: string): boolean {
  const existed = sql.run("DELETE FROM sources WHERE id = :id", { id }) > 0;
  sql.run("DELETE FROM source_state WHERE source_id = :id", { id });
  sql.run("DELETE FROM source_files WHERE source_id = :id", { id });
  return existed;
}

/**
 * A scanner's saved value for `key`, or null.
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
 */
export function removeFiles(sql: Sql, sourceId: string, paths: readonly string[]): void {
  for (const path of paths) {
    sql.run("DELETE FROM source_files WHERE source_id = :sourceId AND path = :path", {
      sourceId,
      path,
    });
  }
}

/**
 * The embedded {@link SourceStore}: each call one read or one group-committed write.
 */
export class SqliteSources implements SourceStore {
  constructor(private readonly rw: SqliteRw) {}

  listSources(): Promise<StoredSource[]> {
    return this.rw.read(listSourceRows);
  }
  getSource(id: string): Promise<StoredSource | null> {
    return this.rw.read((sql) => readSource(sql, id));
  }
  putSource(source: ParsedSource): Promise<void> {
    return this.rw.write((sql) => writeSource(sql, source));
  }
  putSourceIfAbsent(source: ParsedSource): Promise<StoredSource | null> {
    return this.rw.write((sql) => insertSourceIfAbsent(sql, source));
  }
  deleteSource(id: string): Promise<boolean> {
    return this.rw.write((sql) => removeSource(sql, id));
  }
  getSourceState(sourceId: string, key: string): Promise<Json | null> {
    return this.rw.read((sql) => readSourceState(sql, sourceId, key));
  }
  setSourceState(sourceId: string, key: string, value: Json | null): Promise<void> {
    return this.rw.write((sql) => writeSourceState(sql, sourceId, key, value));
  }
  listFiles(sourceId: string): Promise<FileEntry[]> {
    return this.rw.read((sql) => listFileRows(sql, sourceId));
  }
  putFiles(sourceId: string, files: FileEntry[]): Promise<void> {
    return this.rw.write((sql) => writeFiles(sql, sourceId, files));
  }
  deleteFiles(sourceId: string, paths: string[]): Promise<void> {
    return this.rw.write((sql) => removeFiles(sql, sourceId, paths));
  }
}
