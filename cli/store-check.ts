/**
 * `un store check`: runs SQLite's `integrity_check` (or, with `--quick`, the
 * `quick_check` un runs at every start) on the embedded store and prints what
 * it found. Exit 0 sound, 1 damaged, 2 bad usage or no store to check. It
 * only reads, so it may run beside a running un.
 */

import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../lib/config/load.ts";
import { SQLITE_FILE } from "../lib/store/sqlite/store.ts";
import { integrityProblems } from "../lib/store/sqlite/integrity.ts";
import { UsageError } from "./errors.ts";

const USAGE = "usage: un store check [--config FILE] [--quick] [--json]";

/**
 * The embedded store a config names.
 */
export interface StoreLocation {
  dir: string;
  file: string;
  /** The config file read, or null (defaults and UN_* variables only). */
  config: string | null;
}

/**
 * Finds the store as `un start` would: `--config FILE`, else `UN_CONFIG`, else
 * `./un.config.json` if present; `store.path` relative to the config file.
 * Throws UsageError for a bad config or one that uses Redis.
 */
export async function storeFromConfig(path: string | undefined): Promise<StoreLocation> {
  let loaded;
  try {
    loaded = await loadConfig({ path });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`invalid config: ${err.message}`);
    throw err;
  }
  const { config, file } = loaded;
  if (config.redis.url) {
    throw new UsageError(
      "this config uses Redis (redis.url): un store check and recover work on the embedded store",
    );
  }
  const base = file ? dirname(resolve(file)) : Deno.cwd();
  const dir = resolve(base, config.store.path);
  return { dir, file: join(dir, SQLITE_FILE), config: file };
}

/**
 * Parses `--config`, `--json` and the command's own flags; UsageError on anything else.
 */
export function storeArgs(
  args: string[],
  extra: Record<string, { type: "boolean" }>,
  usage: string,
): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({
      args,
      options: { config: { type: "string", short: "c" }, json: { type: "boolean" }, ...extra },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; ${usage}`);
  }
}

/**
 * Runs `un store check`.
 */
export async function storeCheckCommand(args: string[]): Promise<number> {
  const values = storeArgs(args, { quick: { type: "boolean" } }, USAGE);
  const { file } = await storeFromConfig(values.config as string | undefined);
  if (!existsSync(file)) {
    console.error(`un: no store at ${file} (nothing to check)`);
    return 2;
  }
  const mode = values.quick ? "quick" : "full";
  const check = mode === "quick" ? "quick_check" : "integrity_check";
  const started = performance.now();
  let problems: string[];
  // Read-only: checking never changes the file, and may run beside un.
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    problems = integrityProblems(db, mode, 1_000);
  } finally {
    db.close();
  }
  const ms = Math.round(performance.now() - started);
  if (values.json) {
    console.log(JSON.stringify({ file, check, ok: problems.length === 0, problems, ms }));
  } else if (problems.length === 0) {
    console.log(`${file}: ok (${check}, ${ms} ms)`);
  } else {
    console.log(
      `${file}: damaged (${check} found ${problems.length} problem${
        problems.length === 1 ? "" : "s"
      }):`,
    );
    for (const line of problems.slice(0, 50)) console.log(`  ${line}`);
    if (problems.length > 50) {
      console.log(`  ... and ${problems.length - 50} more (--json lists all)`);
    }
    console.log(
      "stop un, then run `un store recover` to copy what is readable into a fresh store " +
        "(the damaged file is kept next to it)",
    );
  }
  return problems.length === 0 ? 0 : 1;
}
