/**
 * Configuration: `un.config.json` (path from `--config` or `UN_CONFIG`), every
 * key also settable by an `UN_*` variable (`UN_WORKERS_CONCURRENCY=8`,
 * `UN_API_PORT=0`, `UN_REDIS_URL=redis://...`), validated at start. A bad value
 * gives one line naming the key, the value and what is allowed; an unknown
 * key or `UN_*` name is an error too, naming the nearest known one.
 */

import type { z } from "zod";
import { applyEnv } from "./env.ts";
import { type Config, configSchema } from "./schema.ts";
import { keysAt, unknownKeyMessage } from "./suggest.ts";
import { UnError } from "../errors.ts";
import { valueAt } from "../validate.ts";

export {
  type Config,
  type ConfigInput,
  configSchema,
  type HookSpec,
  type ScheduleSpec,
  sourceSchema,
  type SourceSpec,
} from "./schema.ts";
export { applyEnv } from "./env.ts";
export { nearestName, unknownKeyMessage } from "./suggest.ts";

/**
 * A bad configuration. `un start` prints the message and exits 2.
 */
export class ConfigError extends UnError {
  constructor(readonly problems: string[]) {
    super("invalid_config", problems.join("; "), 400, { problems });
  }
}

/**
 * Turns zod issues into lines naming key, allowed values and the value given.
 * Given the schema, a key that is not one names the nearest known key
 * (`` `wokers` is not a key; did you mean `workers`? ``) or, with none near,
 * the keys allowed there.
 *
 * @example
 * ```ts
 * formatIssues(result.error.issues, input, "config"); // ["workers.concurrency must be an integer 1..256, got 0"]
 * formatIssues(issues, { wokers: {} }, "", configSchema); // ["`wokers` is not a key; did you mean `workers`?"]
 * ```
 */
export function formatIssues(
  issues: z.core.$ZodIssue[],
  input: unknown,
  prefix = "",
  schema?: unknown,
): string[] {
  return issues.flatMap((issue) => {
    const key = [prefix, ...issue.path.map(String)].filter(Boolean).join(".") || "value";
    const got = valueAt(input, issue.path);
    let message = issue.message;
    if (issue.code === "unrecognized_keys" && "keys" in issue) {
      const at = [prefix, ...issue.path.map(String)].filter(Boolean).join(".");
      const known = schema === undefined ? null : keysAt(schema, issue.path, input);
      return issue.keys.map((k) => unknownKeyMessage(k, known, at));
    }
    if (issue.code === "invalid_value" && "values" in issue) {
      message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    } else if (issue.code === "invalid_type" && got === undefined) {
      return [`${key} is required (${message.replace(/^Invalid input: /, "")})`];
    } else if (message.startsWith("Invalid input: ") || message.startsWith("Too ")) {
      message = message.replace(/^Invalid input: /, "must be: ").replace(/^Too /, "is too ");
    }
    return [`${key} ${message}, got ${shortJson(got)}`];
  });
}

/** A value as JSON, cut to a readable length (error messages name it, they need not repeat it). */
function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? "undefined";
  return text.length <= 120 ? text : `${text.slice(0, 117)}...`;
}

/**
 * Validates a raw config object (after env overrides). Throws {@link ConfigError}.
 *
 * @example
 * ```ts
 * const config = parseConfig({ workers: { concurrency: 8 } });
 * config.api.port; // 4242
 * ```
 */
export function parseConfig(raw: unknown): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(formatIssues(result.error.issues, raw, "", configSchema));
  }
  const config = result.data;
  const ids = new Set<string>();
  for (const [i, source] of config.sources.entries()) {
    if (ids.has(source.id)) {
      throw new ConfigError([`sources.${i}.id "${source.id}" is used by two sources`]);
    }
    ids.add(source.id);
  }
  if (config.workers.backoffMaxMs < config.workers.backoffBaseMs) {
    throw new ConfigError([
      `workers.backoffMaxMs must be >= workers.backoffBaseMs (${config.workers.backoffBaseMs}), got ${config.workers.backoffMaxMs}`,
    ]);
  }
  const loopback = ["127.0.0.1", "localhost", "::1"].includes(config.api.host);
  if (!loopback && !config.api.token) {
    throw new ConfigError([
      `api.host "${config.api.host}" is not loopback: set api.token (UN_API_TOKEN) to bind it`,
    ]);
  }
  return config;
}

/** Where the config came from, for logs. */
export interface LoadedConfig {
  config: Config;
  /** The file read, or null when none exists and defaults apply. */
  file: string | null;
}

/**
 * Loads the config file (if any), applies `UN_*` variables and validates.
 * An explicitly named file that does not exist is an error; the default
 * `un.config.json` may be absent.
 *
 * @example
 * ```ts
 * const { config } = await loadConfig({ path: "un.config.json" });
 * ```
 */
export async function loadConfig(
  options: { path?: string; env?: Record<string, string> } = {},
): Promise<LoadedConfig> {
  const env = options.env ?? Deno.env.toObject();
  const explicit = options.path ?? env.UN_CONFIG;
  const file = explicit ?? "un.config.json";
  let raw: Record<string, unknown> = {};
  let found: string | null = null;
  try {
    const text = await Deno.readTextFile(file);
    found = file;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ConfigError([`${file} is not valid JSON: ${(err as Error).message}`]);
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      throw new ConfigError([`${file} must hold a JSON object, got ${JSON.stringify(raw)}`]);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    if (explicit) throw new ConfigError([`config file ${file} does not exist`]);
  }
  const fromEnv = new Map<string, string>();
  const problems = applyEnv(raw, env, fromEnv);
  if (problems.length) throw new ConfigError(problems);
  try {
    return { config: parseConfig(raw), file: found };
  } catch (err) {
    if (!(err instanceof ConfigError) || fromEnv.size === 0) throw err;
    // A bad value that came from a variable names the variable too.
    throw new ConfigError(err.problems.map((line) => {
      for (const [key, name] of fromEnv) {
        if (line.startsWith(`${key} `)) return `${line} (set by ${name})`;
      }
      return line;
    }));
  }
}
