/**
 * Sources managed at run time (`POST /un/sources/add`, `PATCH` and `DELETE
 * /un/sources/:id`, enable/disable): a plain module, no actor code. It validates a definition
 * with the config's own `sourceSchema` (so the API and `un.config.json` accept
 * exactly the same sources), adds, switches and removes stored sources
 * (an add is one atomic store step, so two API processes adding one id
 * cannot both succeed), builds the `source.*` CloudEvents the runtime reacts
 * to, and redacts secrets (`redact.ts`: keys, headers, URL user info and
 * query values) for answers and events. What a run-time source may reach is
 * checked in `admit.ts`; manual scans (limit and history) are in
 * `scan-history.ts`.
 */

import type { SourceSpec } from "../config/load.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { type CloudEvent, createEvent, type Json } from "../events/cloud-event.ts";
import { STATUS_KEY } from "./scanner.ts";
import type { ParsedSource, SourceStore, StoredSource } from "../store/types.ts";
import { redactSpec, redactTexts } from "./redact.ts";
import { parseSourceSpec } from "./parse-spec.ts";

export { parseSourceSpec, redactSpec };

/**
 * The `source` of every `source.*` event made through the API.
 */
export const API_EVENT_SOURCE = "/un/api";

/**
 * What happened to a source; the event type is `source.<change>`.
 */
export type SourceChange = "created" | "updated" | "deleted" | "enabled" | "disabled";

/**
 * A source as the API shows it: the stored record with secrets redacted and
 * the status its scanner keeps (last scan, last error, failures).
 */
export interface SourceView {
  id: string;
  kind: string;
  enabled: boolean;
  /** The definition, secrets redacted (as stored, when it no longer parses). */
  spec: Record<string, Json>;
  origin: StoredSource["origin"];
  createdAt: number;
  updatedAt: number;
  /** Why the stored definition no longer parses (the source is not scanned); absent when it does. */
  error?: string;
  /** The scanner's `SourceStatus`, or null before its first scan. */
  status: Json | null;
}

/** The definition as stored, parsed or not. */
function specOf(source: StoredSource): Json {
  return (source.spec ?? source.raw) as unknown as Json;
}

/**
 * The API view of a stored source: redacted, with its scanner's status.
 */
export async function viewSource(
  store: Pick<SourceStore, "getSourceState">,
  source: StoredSource,
): Promise<SourceView> {
  const { id, kind, enabled, origin, createdAt, updatedAt } = source;
  return {
    id,
    kind,
    enabled,
    spec: redactSpec(specOf(source)) as Record<string, Json>,
    origin,
    createdAt,
    updatedAt,
    ...(source.spec === null ? { error: source.error } : {}),
    // Pollers redact their errors already; this also covers statuses stored before they did.
    status: redactTexts(await store.getSourceState(source.id, STATUS_KEY)),
  };
}

/**
 * The stored record of a source added through the API.
 */
export function apiSource(spec: SourceSpec, now: number): ParsedSource {
  return {
    id: spec.id,
    kind: spec.kind,
    enabled: spec.enabled,
    spec,
    origin: "api",
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Adds a source at run time: stored with `origin: "api"` unless its id is
 * taken, in one atomic step (two API processes adding one id: one gets it,
 * the other this ConflictError, 409). Resolves with the stored record.
 */
export async function addSource(
  store: Pick<SourceStore, "putSourceIfAbsent">,
  spec: SourceSpec,
  now: number,
): Promise<ParsedSource> {
  const source = apiSource(spec, now);
  const existing = await store.putSourceIfAbsent(source);
  if (existing) {
    throw new ConflictError(
      `source ${spec.id} already exists (origin ${existing.origin}); choose another id, ` +
        `or remove it first with DELETE /un/sources/${spec.id}`,
      { field: "id", value: spec.id },
    );
  }
  return source;
}

/**
 * A stored source, or NotFoundError (404).
 */
export async function mustGetSource(
  store: Pick<SourceStore, "getSource">,
  id: string,
): Promise<StoredSource> {
  const source = await store.getSource(id);
  if (!source) throw new NotFoundError("source", id);
  return source;
}

/**
 * Switches a stored source on or off; `changed` is false when it already was
 * so (nothing stored). A source whose stored definition no longer parses is
 * refused (409): it can only be removed and added again.
 */
export async function setSourceEnabled(
  store: Pick<SourceStore, "getSource" | "putSource">,
  id: string,
  enabled: boolean,
  now: number,
): Promise<{ source: StoredSource; changed: boolean }> {
  const source = await mustGetSource(store, id);
  // Already so: nothing to store and no event (the scanner is left as it is).
  if (source.enabled === enabled) return { source, changed: false };
  if (source.spec === null) {
    throw new ConflictError(
      `source ${id} cannot be ${enabled ? "enabled" : "disabled"}: its ${source.error}; ` +
        `remove it with DELETE /un/sources/${id} and add it again`,
      { field: "id", value: id },
    );
  }
  const next = withEnabled(source, enabled, now);
  await store.putSource(next);
  return { source: next, changed: true };
}

/** What a PATCH changed: the record before and after. */
export interface SourceUpdate {
  previous: ParsedSource;
  current: ParsedSource;
}

/** Keys a PATCH cannot change: they name the source and choose its scanner. */
const FIXED_KEYS = ["id", "kind"] as const;

/**
 * Changes fields of a stored source in place: `patch` is merged over the
 * stored definition (a key set to `null` goes back to its default), and the
 * result is validated exactly as an added source is (400 naming the field).
 * `id` and `kind` cannot change (400 naming it); a source whose stored
 * definition no longer parses is refused (409). The record keeps its origin
 * and creation time, and the store keeps the source's state (seen items,
 * file index, cursors) under the same id, so the restarted scanner announces
 * nothing again. `admit` may refuse the change before it is stored.
 *
 * @example
 * ```ts
 * const { previous, current } = await updateSource(store, "news", { interval: "30s" }, Date.now());
 * ```
 */
export async function updateSource(
  store: Pick<SourceStore, "getSource" | "putSource">,
  id: string,
  patch: Record<string, unknown>,
  now: number,
  admit?: (update: SourceUpdate) => Promise<void>,
): Promise<SourceUpdate> {
  const previous = await mustGetSource(store, id);
  for (const key of FIXED_KEYS) {
    if (patch[key] !== undefined && patch[key] !== previous[key]) {
      throw new ValidationError(
        `${key} cannot change (${JSON.stringify(previous[key])}, got ${
          JSON.stringify(patch[key])
        }); add a new source and remove this one instead`,
        { field: key, value: patch[key] as Json },
      );
    }
  }
  if (previous.spec === null) {
    throw new ConflictError(
      `source ${id} cannot be changed: its ${previous.error}; ` +
        `remove it with DELETE /un/sources/${id} and add it again`,
      { field: "id", value: id },
    );
  }
  const merged: Record<string, unknown> = { ...previous.spec };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  const spec = parseSourceSpec(merged);
  const update = {
    previous,
    // Later than before even within one millisecond: a cluster's source leader restarts on it.
    current: {
      ...previous,
      enabled: spec.enabled,
      spec,
      updatedAt: Math.max(now, previous.updatedAt + 1),
    },
  };
  await admit?.(update);
  await store.putSource(update.current);
  return update;
}

/** What {@link admitSource} checks of a definition: its URL or path. */
const REACH_KEYS = ["url", "apiUrl", "path"] as const;

/**
 * True when an update changes what the source reaches (a URL or a path):
 * only then is the new definition checked against `http.allow` and the file
 * roots again, so a config-file source's interval can change without the
 * operator's own URL being judged as a caller's.
 */
export function reachChanged({ previous, current }: SourceUpdate): boolean {
  const before = previous.spec as Record<string, unknown>;
  const after = current.spec as Record<string, unknown>;
  return REACH_KEYS.some((key) => before[key] !== after[key]);
}

/**
 * The same source switched on or off (the record's flag and the spec's agree).
 */
export function withEnabled(source: ParsedSource, enabled: boolean, now: number): ParsedSource {
  return { ...source, enabled, spec: { ...source.spec, enabled }, updatedAt: now };
}

/**
 * What to tell a client that changed a config-file source at run time: the
 * config file is the source of truth for its sources, so at the next start its
 * definition (and its `enabled`) applies again. Null for API sources.
 */
export function configNote(source: StoredSource, change: SourceChange): string | null {
  if (source.origin !== "config") return null;
  const back = change === "deleted"
    ? "it comes back on the next start unless you remove it from the config file"
    : "the config file's `enabled` applies again on the next start";
  return `source ${source.id} comes from the config file: ${back}`;
}

/**
 * The `source.<change>` CloudEvent: `source` is `/un/api`, `subject` the
 * source id, `data.source` the redacted record. The runtime (this process and,
 * through the Redis bridge, the others) starts or stops the scanner on it.
 * `source.updated` also has `data.previous` and `data.current` (redacted
 * alike; `current` is `source`).
 */
export function sourceEvent(
  change: SourceChange,
  source: StoredSource,
  previous?: StoredSource,
): CloudEvent {
  const record = eventRecord(source);
  return createEvent({
    type: `source.${change}`,
    source: API_EVENT_SOURCE,
    subject: source.id,
    data: previous
      ? { source: record, previous: eventRecord(previous), current: record }
      : { source: record },
  });
}

/** A stored source as events carry it: secrets redacted. */
function eventRecord(source: StoredSource): Json {
  return {
    id: source.id,
    kind: source.kind,
    enabled: source.enabled,
    // Redacted; an unparsed source's stored definition is redacted the same way.
    spec: redactSpec(specOf(source)),
    origin: source.origin,
    createdAt: source.createdAt,
    updatedAt: source.updatedAt,
  };
}
