/**
 * The source side of the store: source definitions (config seeds and ones
 * added at run time), the small state each scanner keeps, and the fs file
 * index. Definitions are parsed with the config schema when read
 * ({@link readStoredSource}), so callers get typed specs; one that no longer
 * parses (stored by an older version, edited by hand) comes back as an
 * {@link UnparsedSource} with the reason, never as a crash or a silent gap.
 */

import { sourceSchema, type SourceSpec } from "../config/schema.ts";
import type { Json } from "../events/cloud-event.ts";

/** What every stored source has, parsed or not. */
interface SourceRecordBase {
  id: string;
  kind: string;
  enabled: boolean;
  /** `config` = from un.config.json; `api` = added at run time. */
  origin: "config" | "api";
  createdAt: number;
  updatedAt: number;
}

/**
 * A source definition as persisted, its spec valid by the config schema.
 */
export interface ParsedSource extends SourceRecordBase {
  /** The full definition as validated (kind keys included). */
  spec: SourceSpec;
}

/**
 * A stored source whose spec the schema no longer accepts: it is listed (so
 * the API shows it with the reason, and it can be deleted) but never scanned.
 */
export interface UnparsedSource extends SourceRecordBase {
  spec: null;
  /** The spec as stored. */
  raw: Record<string, Json>;
  /** Why it does not parse, e.g. `interval must be a duration ...`. */
  error: string;
}

/** A source as read from the store: parsed, or kept with the reason it does not parse. */
export type StoredSource = ParsedSource | UnparsedSource;

/** One file the fs scanner knows, for reconciliation after a restart or overflow. */
export interface FileEntry {
  path: string;
  size: number;
  mtimeMs: number;
}

/** Source definitions, scanner state and the file index. */
export interface SourceStore {
  /** Every source, oldest first (createdAt, then id). */
  listSources(): Promise<StoredSource[]>;
  getSource(id: string): Promise<StoredSource | null>;
  /** Creates or replaces a source by id. */
  putSource(source: ParsedSource): Promise<void>;
  /**
   * Stores `source` unless one with its id exists, in one atomic step (two
   * processes adding one id: exactly one stores it). Null when stored; the
   * source already stored otherwise (nothing is written).
   */
  putSourceIfAbsent(source: ParsedSource): Promise<StoredSource | null>;
  /** Removes a source with its scanner state and file index; true when it existed. */
  deleteSource(id: string): Promise<boolean>;
  /** Small JSON state a scanner keeps between runs (ETag, cursor, seen ids). */
  getSourceState(sourceId: string, key: string): Promise<Json | null>;
  setSourceState(sourceId: string, key: string, value: Json | null): Promise<void>;
  listFiles(sourceId: string): Promise<FileEntry[]>;
  putFiles(sourceId: string, files: FileEntry[]): Promise<void>;
  deleteFiles(sourceId: string, paths: string[]): Promise<void>;
}

/**
 * A stored source with its spec as persisted (JSON), before parsing.
 */
export type RawSource = SourceRecordBase & { spec: unknown };

/**
 * Parses a stored source's spec with the config schema: the store boundary
 * every implementation reads through. A spec that does not parse gives an
 * {@link UnparsedSource} naming each problem.
 *
 * @example
 * ```ts
 * const source = readStoredSource({ ...row, spec: { kind: "feed", id: "blog", url: "ftp" } });
 * source.spec; // null
 * source.error; // "url: must be an http(s) URL"
 * ```
 */
export function readStoredSource(raw: RawSource): StoredSource {
  const { spec, ...base } = raw;
  const parsed = sourceSchema.safeParse(spec);
  if (parsed.success) return { ...base, spec: parsed.data };
  const problems = parsed.error.issues.map((issue) =>
    `${issue.path.map(String).join(".") || "spec"}: ${issue.message}`
  );
  const isObject = spec !== null && typeof spec === "object" && !Array.isArray(spec);
  return {
    ...base,
    spec: null,
    raw: isObject ? spec as Record<string, Json> : {},
    error: `stored definition no longer valid: ${problems.join("; ")}`,
  };
}

/**
 * The stored sources whose specs parse (the ones a scanner can run).
 */
export function parsedSources(sources: readonly StoredSource[]): ParsedSource[] {
  return sources.filter((s): s is ParsedSource => s.spec !== null);
}
