/**
 * `UN_*` environment variables: every leaf key of the schema, by name
 * (`workers.concurrency` is `UN_WORKERS_CONCURRENCY`).
 */

import type { z } from "zod";
import { configSchema } from "./schema.ts";
import { nearestName } from "./suggest.ts";

/** Env variables that are not config keys. */
const NON_CONFIG_ENV = new Set(["UN_CONFIG", "UN_URL", "UN_TOKEN", "UN_PROCESS_ID", "UN_FAULTS"]);

function toEnvName(path: string[]): string {
  return "UN_" + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()).join("_");
}

/** Paths of config keys that can be set from the environment: every leaf of the schema's objects. */
function leafPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  // deno-lint-ignore no-explicit-any
  let def: any = (schema as any)._zod.def;
  while (def.innerType || (def.type === "pipe" && def.in)) {
    def = def.innerType ? def.innerType._zod.def : def.in._zod.def;
  }
  if (def.type !== "object") return [prefix];
  const out: string[][] = [];
  for (const [key, child] of Object.entries(def.shape as Record<string, z.ZodType>)) {
    out.push(...leafPaths(child, [...prefix, key]));
  }
  return out;
}

/** Every `UN_*` variable that sets a config key, with the key's path (`UN_API_PORT` → `["api", "port"]`). */
export const ENV_PATHS: ReadonlyMap<string, readonly string[]> = new Map(
  leafPaths(configSchema).map((path) => [toEnvName(path), path]),
);

function parseEnvValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/**
 * The line for a `UN_*` name that is no config key: the nearest one and the
 * key it sets, or, with none near, every name there is.
 */
function unknownEnvMessage(name: string): string {
  const near = nearestName(name, [...ENV_PATHS.keys()]);
  if (near) {
    return `${name} is not a config variable; did you mean ${near} (\`${
      ENV_PATHS.get(near)!.join(".")
    }\`)?`;
  }
  return `${name} is not a config variable (known: ${[...ENV_PATHS.keys()].join(", ")})`;
}

/**
 * Applies `UN_*` variables onto a raw config object. Unknown `UN_*` names are
 * errors (a typo should not pass silently). `applied`, when given, gets each
 * key set (dotted) and the variable that set it, so a bad value can name both.
 */
export function applyEnv(
  raw: Record<string, unknown>,
  env: Record<string, string>,
  applied?: Map<string, string>,
): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("UN_") || name.startsWith("UN_TEST_") || NON_CONFIG_ENV.has(name)) {
      continue;
    }
    const path = ENV_PATHS.get(name);
    if (!path) {
      problems.push(unknownEnvMessage(name));
      continue;
    }
    applied?.set(path.join("."), name);
    let node = raw;
    for (const key of path.slice(0, -1)) {
      if (node[key] === undefined || node[key] === null || typeof node[key] !== "object") {
        node[key] = {};
      }
      node = node[key] as Record<string, unknown>;
    }
    // Strings stay strings where the key takes strings (tokens, URLs, paths).
    const parsed = parseEnvValue(value);
    node[path[path.length - 1]] =
      typeof parsed === "number" && /token|secret|url|path|host|prefix|handlers/i
          .test(path[path.length - 1])
        ? value
        : parsed;
  }
  return problems;
}
