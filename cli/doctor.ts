/**
 * `un doctor`: checks the store the config names, as `un start` would find
 * it (`--config FILE`, else `UN_CONFIG`, else `./un.config.json`; `UN_*`
 * variables such as `UN_REDIS_URL` apply), without a running un.
 *
 * With Redis: its version, persistence (AOF, RDB, their last status), memory
 * (`maxmemory`, `maxmemory-policy`, use) and un's epoch, then one line per
 * finding. WARN lines (persistence off or RDB only, nearly full, a loss of
 * data not acknowledged) exit 0; ERROR lines (an eviction policy that drops
 * un's keys without a word, failing persistence, out of memory) exit 1, so a
 * deploy check can stop on them. Redis unreachable or bad usage: exit 2.
 *
 * Embedded: the store's path and size and who holds its lock; Redis is not
 * used. It only reads (the lock is not taken), so it may run beside un.
 */

import { errorText } from "../lib/errors.ts";
import { existsSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { type Config, ConfigError, loadConfig } from "../lib/config/load.ts";
import type { Finding, RedisReport } from "../lib/store/redis/diagnose.ts";
import { SQLITE_FILE } from "../lib/store/sqlite/store.ts";
import { redactUrl } from "../lib/sources/redact.ts";
import { parse, positionals } from "./args.ts";
import { UsageError } from "./errors.ts";
import { printJson } from "./format.ts";

const USAGE = "un doctor [--config FILE] [--json]";
/** The store lock's file in the store directory (lib/store/lock.ts), read, never taken. */
const LOCK_FILE = "lock";
/** How long the Redis connection may take before doctor gives up (exit 2). */
const CONNECT_TIMEOUT_MS = 3_000;

/**
 * Runs `un doctor`; resolves with the exit code.
 */
export async function doctorCommand(args: string[]): Promise<number> {
  const parsed = parse(
    args,
    { config: { type: "string", short: "c" }, json: { type: "boolean" } },
    USAGE,
  );
  positionals(parsed.positionals, 0, USAGE);
  let loaded;
  try {
    loaded = await loadConfig({ path: parsed.values.config as string | undefined });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`invalid config: ${err.message}`);
    throw err;
  }
  const json = parsed.values.json === true;
  const { config, file } = loaded;
  if (config.redis.url) return await redisDoctor(config, json);
  const base = file ? dirname(resolve(file)) : Deno.cwd();
  return embeddedDoctor(resolve(base, config.store.path), json);
}

async function redisDoctor(config: Config, json: boolean): Promise<number> {
  const url = config.redis.url!;
  const shown = redactUrl(url);
  const prefix = config.redis.prefix;
  // Loaded here so an embedded check never loads Redis's modules.
  const { Redis } = await import("ioredis");
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    connectionName: "un-doctor",
  });
  // The socket's own error names the cause ("connect ECONNREFUSED ..."), where
  // the failed call only says the connection closed; a listener also keeps
  // ioredis from printing it.
  const first: { error: Error | null } = { error: null };
  redis.on("error", (error: Error) => (first.error ??= error));
  let report: RedisReport;
  try {
    await redis.connect();
    const { diagnoseRedis } = await import("../lib/store/redis/diagnose.ts");
    report = await diagnoseRedis(redis, prefix);
  } catch (err) {
    const reason = first.error?.message || errorText(err);
    console.error(`un: cannot read redis at ${shown}: ${reason}`);
    return 2;
  } finally {
    redis.disconnect();
  }
  const failed = report.findings.some((f) => f.level === "error");
  if (json) {
    printJson({ store: "redis", url: shown, prefix, ...report, ok: !failed });
    return failed ? 1 : 0;
  }
  const mb = (bytes: number | null) => bytes === null ? "unknown" : formatBytes(bytes);
  const known = (value: string | null) => value ?? "unknown (CONFIG not allowed)";
  console.log(`un doctor: redis ${shown} (key prefix ${prefix})`);
  rows([
    ["redis version", report.version ?? "unknown"],
    [
      "AOF",
      report.aof === null
        ? "unknown"
        : report.aof
        ? `on (appendonly yes, appendfsync ${known(report.appendfsync)}), last write ${
          report.aofLastWriteStatus ?? "unknown"
        }`
        : "off (appendonly no)",
    ],
    [
      "RDB",
      report.save === null
        ? "schedule unknown (CONFIG not allowed)"
        : report.save === ""
        ? 'off (save "")'
        : `on (save "${report.save}")`,
    ],
    [
      "last RDB save",
      `${report.rdbLastStatus ?? "unknown"}${
        report.rdbLastSaveAt ? ` at ${report.rdbLastSaveAt}` : ""
      }${report.changesSinceSave !== null ? `, ${report.changesSinceSave} changes since` : ""}`,
    ],
    [
      "maxmemory",
      report.maxmemory === 0 ? "0 (no limit)" : `${report.maxmemory ?? "unknown"} bytes`,
    ],
    ["maxmemory-policy", report.policy ?? "unknown"],
    ["used memory", mb(report.usedMemory)],
    [
      "un epoch",
      report.epoch
        ? `${report.epoch}${report.epochSince ? ` (un's data since ${report.epochSince})` : ""}`
        : `none yet (un has not used this Redis under ${prefix})`,
    ],
  ]);
  printFindings(report.findings);
  return failed ? 1 : 0;
}

function embeddedDoctor(dir: string, json: boolean): number {
  const file = join(dir, SQLITE_FILE);
  const size = (path: string) => existsSync(path) ? statSync(path).size : null;
  const [dbBytes, walBytes] = [size(file), size(`${file}-wal`)];
  const lock = lockHolder(join(dir, LOCK_FILE));
  const findings: Finding[] = dbBytes === null
    ? [{ level: "warn", message: `no store at ${file} yet (un start creates it)` }]
    : [];
  if (json) {
    printJson({
      store: "sqlite",
      path: dir,
      file,
      bytes: dbBytes,
      walBytes,
      lock,
      redis: null,
      findings,
      ok: true,
    });
    return 0;
  }
  console.log(`un doctor: embedded store ${dir}`);
  rows([
    [
      "file",
      dbBytes === null
        ? `${file} (absent)`
        : `${file}, ${formatBytes(dbBytes)}${
          walBytes ? ` (+ ${formatBytes(walBytes)} write-ahead log)` : ""
        }`,
    ],
    ["lock", lock.text],
    ["redis", "not used (set redis.url or UN_REDIS_URL to share work between processes)"],
  ]);
  printFindings(findings);
  return 0;
}

interface LockState {
  /** The holder as it wrote itself, or null when no un ever held the store. */
  holder: { pid: number; host?: string; startedAt?: string } | null;
  /** Whether that process still runs (null: another host, cannot tell). */
  running: boolean | null;
  text: string;
}

/**
 * Who holds the store's lock, from the name its holder wrote. The lock itself
 * is not taken (a start at the same instant would be refused): a process of
 * this host is looked up in /proc.
 */
function lockHolder(path: string): LockState {
  let holder: LockState["holder"] = null;
  try {
    const text = Deno.readTextFileSync(path).trim();
    holder = /^\d+$/.test(text) ? { pid: Number(text) } : JSON.parse(text);
  } catch {
    holder = null;
  }
  if (!holder || !Number.isInteger(holder.pid)) {
    return { holder: null, running: null, text: "free (no un has used this store yet)" };
  }
  const local = !holder.host || holder.host === hostname();
  const running = local && existsSync("/proc") ? existsSync(`/proc/${holder.pid}`) : null;
  const who = `process ${holder.pid}${holder.host ? ` on ${holder.host}` : ""}${
    holder.startedAt ? ` since ${holder.startedAt}` : ""
  }`;
  const text = running === true
    ? `held by ${who}`
    : running === false
    ? `free (last held by ${who}, no longer running)`
    : `last held by ${who} (another host: cannot tell whether it runs)`;
  return { holder, running, text };
}

function rows(lines: Array<[string, string]>): void {
  const width = Math.max(...lines.map(([label]) => label.length));
  for (const [label, value] of lines) console.log(`  ${label.padEnd(width)}  ${value}`);
}

function printFindings(findings: Finding[]): void {
  if (findings.length === 0) {
    console.log("no problems found");
    return;
  }
  for (const f of findings) console.log(`${f.level === "error" ? "ERROR" : "WARN "} ${f.message}`);
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
