/**
 * "Did you mean" for names a user typed: config keys, `UN_*` variables, API
 * fields, task types. A misspelt key must stop `un` with the key it meant,
 * not be dropped without a word.
 */

import { closest, distance } from "fastest-levenshtein";

/**
 * The known name nearest to `name`, or null when none is near enough to be a
 * likely typo (at most a third of the name's letters differ, at least 2
 * allowed). Case is ignored in the comparison, not in the answer.
 */
export function nearestName(name: string, known: readonly string[]): string | null {
  if (known.length === 0) return null;
  const lower = known.map((k) => k.toLowerCase());
  const wanted = name.toLowerCase();
  const best = closest(wanted, lower);
  const allowed = Math.max(2, Math.floor(name.length / 3));
  return distance(wanted, best) <= allowed ? known[lower.indexOf(best)] : null;
}

/**
 * One line for a key that is not one: `` `wokers` is not a key; did you mean
 * `workers`? ``, or, with nothing near, the keys that are allowed there.
 * `at` is the dotted path of the object holding the key ("" at the top).
 */
export function unknownKeyMessage(key: string, known: readonly string[] | null, at = ""): string {
  const path = (name: string) => (at ? `${at}.${name}` : name);
  const head = `\`${path(key)}\` is not a key`;
  if (!known || known.length === 0) return head;
  const near = nearestName(key, known);
  if (near) return `${head}; did you mean \`${path(near)}\`?`;
  return `${head} (allowed${at ? ` in ${at}` : ""}: ${known.join(", ")})`;
}

// deno-lint-ignore no-explicit-any
type Def = any;

/** A zod 4 schema's definition with wrappers (optional, default, prefault, pipe...) peeled off. */
function peel(schema: unknown): Def | null {
  // deno-lint-ignore no-explicit-any
  let def: Def = (schema as any)?._zod?.def;
  for (let i = 0; def && i < 32; i++) {
    if (def.innerType) def = def.innerType._zod?.def;
    else if (def.type === "pipe" && def.in) def = def.in._zod?.def;
    else if (def.type === "lazy" && typeof def.getter === "function") def = def.getter()._zod?.def;
    else break;
  }
  return def ?? null;
}

/** The options of a union the input may be meant for (by its discriminator, when it has one). */
function unionOptions(def: Def, input: unknown): Def[] {
  const options: Def[] = (def.options ?? []).map(peel).filter(Boolean);
  const discriminator = def.discriminator;
  if (typeof discriminator !== "string" || input === null || typeof input !== "object") {
    return options;
  }
  const tag = (input as Record<string, unknown>)[discriminator];
  const matching = options.filter((option) => {
    const values = peel(option.shape?.[discriminator])?.values;
    return Array.isArray(values) && values.includes(tag);
  });
  return matching.length ? matching : options;
}

/**
 * The keys a zod 4 object schema allows at `path` in `input` (following
 * objects, arrays, records and unions, and choosing a discriminated union's
 * option by the input's tag), or null when that is not an object schema or
 * not a zod 4 schema at all (a handlers module may bring another library).
 *
 * @example
 * ```ts
 * keysAt(configSchema, ["workers"], raw); // ["concurrency", "queues", ...]
 * keysAt(configSchema, ["sources", 0], { sources: [{ kind: "feed" }] }); // the feed source's keys
 * ```
 */
export function keysAt(
  schema: unknown,
  path: readonly PropertyKey[],
  input: unknown,
): string[] | null {
  const def = peel(schema);
  if (!def) return null;
  if (def.type === "union") {
    const keys = new Set<string>();
    let any = false;
    for (const option of unionOptions(def, input)) {
      const found = keysAt({ _zod: { def: option } }, path, input);
      if (found) {
        any = true;
        found.forEach((key) => keys.add(key));
      }
    }
    return any ? [...keys] : null;
  }
  if (path.length === 0) return def.type === "object" ? Object.keys(def.shape) : null;
  const [head, ...rest] = path;
  const child = input !== null && typeof input === "object"
    ? (input as Record<PropertyKey, unknown>)[head]
    : undefined;
  if (def.type === "object") {
    const next = def.shape?.[head as string];
    return next ? keysAt(next, rest, child) : null;
  }
  if (def.type === "array") return keysAt(def.element, rest, child);
  if (def.type === "record") return keysAt(def.valueType, rest, child);
  return null;
}
