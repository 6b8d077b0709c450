/**
 * A source definition from an API client (`POST /un/sources/add`), validated
 * exactly as the config file's `sources[]` is (the config's own
 * `sourceSchema`), plus: unknown keys are refused naming the nearest known
 * one, URLs must be http(s), and a missing id is generated.
 */

import { formatIssues, nearestName, sourceSchema, type SourceSpec } from "../config/load.ts";
import { ValidationError } from "../errors.ts";
import { newId } from "../events/cloud-event.ts";

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
