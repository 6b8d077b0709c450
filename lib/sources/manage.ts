/**
 * Sources managed at run time (`POST /un/sources/add`, `DELETE /un/sources/:id`,
 * enable/disable): a plain module, no actor code. It validates a definition
 * with the config's own `sourceSchema` (so the API and `un.config.json` accept
 * exactly the same sources), builds the stored record and the `source.*`
 * CloudEvents the runtime reacts to, and redacts secrets (`redact.ts`: keys,
 * headers, URL user info and query values) for answers and events. What a
 * run-time source may reach is checked in `admit.ts`; manual scans (limit
 * and history) are in `scan-history.ts`.
 */

import { formatIssues, nearestName, sourceSchema, type SourceSpec } from "../config/load.ts";
import { ValidationError } from "../errors.ts";
import { type CloudEvent, createEvent, type Json, newId } from "../events/cloud-event.ts";
import { STATUS_KEY } from "./scanner.ts";
import type { Store, StoredSource } from "../store/types.ts";
import { redactSpec, redactTexts } from "./redact.ts";

export { redactSpec };

/**
 * The `source` of every `source.*` event made through the API.
 *
 * @example
 * ```ts
 * sourceEvent("created", stored).source === API_EVENT_SOURCE; // true
 * ```
 */
export const API_EVENT_SOURCE = "/un/api";

/**
 * What happened to a source; the event type is `source.<change>`.
 *
 * @example
 * ```ts
 * const change: SourceChange = "disabled"; // event type "source.disabled"
 * ```
 */
export type SourceChange = "created" | "updated" | "deleted" | "enabled" | "disabled";

/**
 * A source as the API shows it: the stored record with secrets redacted and
 * the status its scanner keeps (last scan, last error, failures).
 *
 * @example
 * ```ts
 * const { sources } = await (await fetch(`${url}/un/sources`)).json() as { sources: SourceView[] };
 * ```
 */
export interface SourceView extends StoredSource {
  /** The scanner's `SourceStatus`, or null before its first scan. */
  status: Json | null;
}

/**
 * The API view of a stored source: redacted, with its scanner's status.
 *
 * @example
 * ```ts
 * const view = await viewSource(store, await store.getSource("blog"));
 * view.status; // { lastScanAt: ..., lastError: null, ... }
 * ```
 */
export async function viewSource(store: Store, source: StoredSource): Promise<SourceView> {
  return {
    ...source,
    spec: redactSpec(source.spec) as Record<string, Json>,
    // Pollers redact their errors already; this also covers statuses stored before they did.
    status: redactTexts(await store.getSourceState(source.id, STATUS_KEY)),
  };
}

/** Keys each kind accepts, from the schema itself (so a typo such as `intervall` is refused). */
const KEYS_BY_KIND: ReadonlyMap<string, readonly string[]> = new Map(
  sourceSchema.options.map((option) => [option.shape.kind.value, Object.keys(option.shape)]),
);

/** Kinds whose URL keys must be http(s): the schema's `z.url()` alone accepts `ftp:` too. */
const HTTP_URL_KEYS: Readonly<Record<string, readonly string[]>> = {
  feed: ["url"],
  http: ["url"],
  github: ["apiUrl"],
};

/** A new source id: the kind and the random tail of a ULID, e.g. `feed-7k2m9x4q1d`. */
function generateId(kind: unknown): string {
  const prefix = typeof kind === "string" && /^[a-z]{1,16}$/.test(kind) ? kind : "source";
  return `${prefix}-${newId().slice(-10).toLowerCase()}`;
}

function invalid(message: string, details: Record<string, unknown>): ValidationError {
  return new ValidationError(message, details);
}

/**
 * Validates a source definition from a client (`{ id?, kind, ...kind keys }`)
 * exactly as the config file's `sources[]` is validated, plus: unknown keys
 * are refused and URLs must be http(s). A missing id is generated. Throws a
 * {@link ValidationError} (400) whose message names the field, the value and
 * what is allowed.
 *
 * @example
 * ```ts
 * const spec = parseSourceSpec({ kind: "feed", url: "https://deno.com/feed", interval: "5m" });
 * spec.id; // "feed-01jd9x4q1d"
 * spec.interval; // 300000
 * parseSourceSpec({ kind: "feed", url: "x", interval: "50ms" }); // throws: url must be an http(s) URL, got "x"; ...
 * ```
 */
export function parseSourceSpec(input: unknown): SourceSpec {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw invalid(`body must be a JSON object such as {"kind":"feed","url":"https://..."}`, {
      field: "body",
    });
  }
  const raw = { ...(input as Record<string, unknown>) };
  if (raw.id === undefined) raw.id = generateId(raw.kind);
  const known = typeof raw.kind === "string" ? KEYS_BY_KIND.get(raw.kind) : undefined;
  if (known) {
    const unknown = Object.keys(raw).filter((key) => !known.includes(key));
    if (unknown.length) {
      // Each unknown key with the nearest allowed one: `intervall` is most likely `interval`.
      const named = unknown.map((key) => {
        const near = nearestName(key, known);
        return `${JSON.stringify(key)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ""}`;
      });
      throw invalid(
        `unknown key(s) ${named.join(", ")} for a ${raw.kind} source; allowed: ${known.join(", ")}`,
        {
          field: unknown[0],
          unknownKeys: unknown,
          allowed: known,
          suggestions: Object.fromEntries(unknown.map((key) => [key, nearestName(key, known)])),
        },
      );
    }
  }
  const result = sourceSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue.path.map(String).join(".") || "body";
    const details: Record<string, unknown> = {
      field,
      problems: formatIssues(result.error.issues, raw, "", sourceSchema),
    };
    const value = issue.path.length ? raw[String(issue.path[0])] : undefined;
    if (value !== undefined && (JSON.stringify(value) ?? "").length <= 200) details.value = value;
    if (field === "kind") details.allowed = [...KEYS_BY_KIND.keys()];
    throw invalid((details.problems as string[]).join("; "), details);
  }
  const spec = result.data;
  for (const key of HTTP_URL_KEYS[spec.kind] ?? []) {
    const value = (spec as Record<string, unknown>)[key];
    if (typeof value === "string" && !/^https?:\/\//i.test(value)) {
      throw invalid(`${key} must be an http(s) URL, got ${JSON.stringify(value)}`, {
        field: key,
        value,
      });
    }
  }
  return spec;
}

/**
 * The stored record of a source added through the API.
 *
 * @example
 * ```ts
 * await store.putSource(apiSource(spec, Date.now()));
 * ```
 */
export function apiSource(spec: SourceSpec, now: number): StoredSource {
  return {
    id: spec.id,
    kind: spec.kind,
    enabled: spec.enabled,
    spec: spec as unknown as Record<string, Json>,
    origin: "api",
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * The same source switched on or off (the record's flag and the spec's agree).
 *
 * @example
 * ```ts
 * await store.putSource(withEnabled(source, false, Date.now()));
 * ```
 */
export function withEnabled(source: StoredSource, enabled: boolean, now: number): StoredSource {
  return { ...source, enabled, spec: { ...source.spec, enabled }, updatedAt: now };
}

/**
 * What to tell a client that changed a config-file source at run time: the
 * config file is the source of truth for its sources, so at the next start its
 * definition (and its `enabled`) applies again. Null for API sources.
 *
 * @example
 * ```ts
 * configNote(source, "deleted"); // "source inbox comes from the config file: ..."
 * ```
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
 *
 * @example
 * ```ts
 * const event = sourceEvent("created", stored);
 * event.type; // "source.created"
 * ```
 */
export function sourceEvent(change: SourceChange, source: StoredSource): CloudEvent {
  return createEvent({
    type: `source.${change}`,
    source: API_EVENT_SOURCE,
    subject: source.id,
    data: {
      source: {
        ...source,
        spec: redactSpec(source.spec),
      } as unknown as Json,
    },
  });
}
