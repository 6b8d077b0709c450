/**
 * Sources, their scanner state and their file index on Redis (the shared
 * `SourceStore`):
 * - `sources`: HASH source id → source JSON (spec parsed with the config
 *   schema as it is read, `readStoredSource`);
 * - `ss:<sourceId>`: HASH key → JSON state;
 * - `fi:<sourceId>`: HASH path → `[size, mtimeMs]`.
 */

import type { Json } from "../../events/cloud-event.ts";
import {
  type FileEntry,
  type ParsedSource,
  type RawSource,
  readStoredSource,
  type StoredSource,
} from "../source-store.ts";
import { execAll, guarded, type RedisContext, runScript } from "./context.ts";

/** A stored source from its JSON; JSON that does not even parse is listed as unparsed too. */
function sourceFromJson(id: string, json: string): StoredSource {
  let raw: RawSource;
  try {
    raw = JSON.parse(json) as RawSource;
  } catch (error) {
    raw = {
      id,
      kind: "unknown",
      enabled: false,
      spec: String(error),
      origin: "api",
      createdAt: 0,
      updatedAt: 0,
    };
  }
  return readStoredSource(raw);
}

/**
 * Every source, ordered by createdAt then id.
 */
export async function listSources(ctx: RedisContext): Promise<StoredSource[]> {
  const all = await guarded({ op: "listSources" }, () => ctx.redis.hgetall(ctx.keys.sources));
  return Object.entries(all)
    .map(([id, json]) => sourceFromJson(id, json))
    .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * One source, or null.
 */
export async function getSource(ctx: RedisContext, id: string): Promise<StoredSource | null> {
  const json = await guarded({ op: "getSource" }, () => ctx.redis.hget(ctx.keys.sources, id));
  return json === null ? null : sourceFromJson(id, json);
}

/**
 * Creates or replaces a source.
 */
export async function putSource(ctx: RedisContext, source: ParsedSource): Promise<void> {
  await guarded(
    { op: "putSource" },
    () => ctx.redis.hset(ctx.keys.sources, source.id, JSON.stringify(source)),
  );
}

/**
 * Stores a source unless its id is taken (one script, so atomic across
 * processes); null when stored, the stored one otherwise.
 */
export async function putSourceIfAbsent(
  ctx: RedisContext,
  source: ParsedSource,
): Promise<StoredSource | null> {
  const existing = await runScript(
    ctx,
    "putSourceIfAbsent",
    [ctx.keys.sources],
    [source.id, JSON.stringify(source)],
    { op: "putSourceIfAbsent" },
  );
  return typeof existing === "string" ? sourceFromJson(source.id, existing) : null;
}

/**
 * Deletes a source with its state and file index; true when it existed.
 */
export async function deleteSource(ctx: RedisContext, id: string): Promise<boolean> {
  const replies = await execAll(
    { op: "deleteSource" },
    ctx.redis.multi()
      .hdel(ctx.keys.sources, id)
      .del(ctx.keys.sourceState(id), ctx.keys.files(id)),
  );
  return Number(replies[0] ?? 0) === 1;
}

/**
 * A scanner's stored value for `key`, or null.
 */
export async function getSourceState(
  ctx: RedisContext,
  sourceId: string,
  key: string,
): Promise<Json | null> {
  const json = await guarded(
    { op: "getSourceState" },
    () => ctx.redis.hget(ctx.keys.sourceState(sourceId), key),
  );
  return json === null ? null : JSON.parse(json) as Json;
}

/**
 * Stores a scanner's value for `key` (null deletes it).
 */
export async function setSourceState(
  ctx: RedisContext,
  sourceId: string,
  key: string,
  value: Json | null,
): Promise<void> {
  const hash = ctx.keys.sourceState(sourceId);
  await guarded(
    { op: "setSourceState" },
    () =>
      value === null ? ctx.redis.hdel(hash, key) : ctx.redis.hset(hash, key, JSON.stringify(value)),
  );
}

/**
 * The file index of a source, ordered by path.
 */
export async function listFiles(ctx: RedisContext, sourceId: string): Promise<FileEntry[]> {
  const all = await guarded({ op: "listFiles" }, () => ctx.redis.hgetall(ctx.keys.files(sourceId)));
  return Object.entries(all)
    .map(([path, json]) => {
      const [size, mtimeMs] = JSON.parse(json) as [number, number];
      return { path, size, mtimeMs };
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Adds or updates files of a source's index (by path).
 */
export async function putFiles(
  ctx: RedisContext,
  sourceId: string,
  files: FileEntry[],
): Promise<void> {
  if (files.length === 0) return;
  const fields = new Map(files.map((f) => [f.path, JSON.stringify([f.size, f.mtimeMs])]));
  await guarded({ op: "putFiles" }, () => ctx.redis.hset(ctx.keys.files(sourceId), fields));
}

/**
 * Removes files from a source's index.
 */
export async function deleteFiles(
  ctx: RedisContext,
  sourceId: string,
  paths: string[],
): Promise<void> {
  if (paths.length === 0) return;
  await guarded({ op: "deleteFiles" }, () => ctx.redis.hdel(ctx.keys.files(sourceId), ...paths));
}
