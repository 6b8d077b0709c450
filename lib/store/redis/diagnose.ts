/**
 * What `un doctor` reads from a Redis and what it makes of it: the version,
 * persistence (AOF, RDB and whether their last writes worked), memory
 * (`maxmemory`, the eviction policy, use) and un's own epoch and reset
 * marker. Findings are warnings (the setup can lose data in a way un reports,
 * or only the last writes) or errors (Redis loses un's data without a word,
 * or refuses writes now).
 *
 * INFO answers everything but the RDB schedule (`save`) and `appendfsync`,
 * which only CONFIG GET gives: managed Redis often refuses CONFIG, so those
 * may stay unknown.
 */

import type { Redis } from "ioredis";
import { decodeTime } from "ulid";
import type { StoreReset } from "./fault-report.ts";
import { redisKeys } from "./keys.ts";

/**
 * One thing `un doctor` found: `warn` (exit 0) or `error` (exit 1).
 */
export interface Finding {
  level: "warn" | "error";
  message: string;
}

/**
 * What one Redis says about itself, and un's marks in it.
 */
export interface RedisReport {
  version: string | null;
  /** `appendonly` (AOF), null when unknown. */
  aof: boolean | null;
  appendfsync: string | null;
  /** The RDB schedule (`save`): "" = off, null = unknown (CONFIG refused). */
  save: string | null;
  /** `rdb_last_bgsave_status`, `aof_last_write_status`, `aof_last_bgrewrite_status`: "ok" or "err". */
  rdbLastStatus: string | null;
  aofLastWriteStatus: string | null;
  aofLastRewriteStatus: string | null;
  /** When the last RDB snapshot was taken (ISO), and writes since. */
  rdbLastSaveAt: string | null;
  changesSinceSave: number | null;
  /** Bytes; 0 = no limit. */
  maxmemory: number | null;
  policy: string | null;
  usedMemory: number | null;
  /** un's epoch under the prefix, and when it was written (from its ULID). */
  epoch: string | null;
  epochSince: string | null;
  /** A loss of data not yet acknowledged, if any. */
  reset: StoreReset | null;
  findings: Finding[];
}

/** `key:value` lines of INFO. */
function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#")) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** CONFIG GET of one parameter, or null when CONFIG is refused or renamed. */
async function configGet(redis: Redis, name: string): Promise<string | null> {
  try {
    const reply = await redis.config("GET", name) as string[];
    return reply.length >= 2 ? reply[1] : null;
  } catch {
    return null;
  }
}

function numberOf(value: string | undefined | null): number | null {
  if (value === undefined || value === null || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function parseReset(json: string | null, epoch: string | null): StoreReset | null {
  if (!json || !epoch) return null;
  try {
    const reset = JSON.parse(json) as StoreReset;
    return reset.epoch === epoch && !reset.ackedAt ? reset : null;
  } catch {
    return null;
  }
}

/**
 * Reads a Redis's setup and un's marks under `prefix`, and judges them.
 */
export async function diagnoseRedis(redis: Redis, prefix: string): Promise<RedisReport> {
  const info = parseInfo(await redis.info("everything"));
  const keys = redisKeys(prefix);
  const [appendonly, appendfsync, save, epoch, marker] = await Promise.all([
    configGet(redis, "appendonly"),
    configGet(redis, "appendfsync"),
    configGet(redis, "save"),
    redis.get(keys.epoch),
    redis.get(keys.epochReset),
  ]);
  const aofEnabled = info.get("aof_enabled");
  const lastSave = numberOf(info.get("rdb_last_save_time"));
  let epochSince: string | null = null;
  try {
    epochSince = epoch ? new Date(decodeTime(epoch)).toISOString() : null;
  } catch {
    // Not a ULID: written by something else.
  }
  const report: RedisReport = {
    version: info.get("redis_version") ?? null,
    aof: appendonly !== null ? appendonly === "yes" : aofEnabled ? aofEnabled === "1" : null,
    appendfsync,
    save,
    rdbLastStatus: info.get("rdb_last_bgsave_status") ?? null,
    aofLastWriteStatus: info.get("aof_last_write_status") ?? null,
    aofLastRewriteStatus: info.get("aof_last_bgrewrite_status") ?? null,
    rdbLastSaveAt: lastSave ? new Date(lastSave * 1_000).toISOString() : null,
    changesSinceSave: numberOf(info.get("rdb_changes_since_last_save")),
    maxmemory: numberOf(info.get("maxmemory")),
    policy: info.get("maxmemory_policy") ?? null,
    usedMemory: numberOf(info.get("used_memory")),
    epoch,
    epochSince,
    reset: parseReset(marker, epoch),
    findings: [],
  };
  report.findings = judge(report);
  return report;
}

/**
 * The findings of a report (see {@link Finding}).
 */
export function judge(r: Omit<RedisReport, "findings">): Finding[] {
  const out: Finding[] = [];
  const warn = (message: string) => out.push({ level: "warn", message });
  const error = (message: string) => out.push({ level: "error", message });
  if (r.policy !== null && r.policy !== "noeviction") {
    const what = r.policy.startsWith("volatile")
      ? "keys that expire, un's among them (schedule ticks, hook markers): a schedule can " +
        "fire twice, a hook run twice"
      : "any key, un's tasks included: they are lost without a word";
    error(
      `maxmemory-policy is ${r.policy}: when Redis is full it evicts ${what}; set ` +
        "maxmemory-policy noeviction (un then answers 503 until memory is freed)",
    );
  }
  if (r.aof === false && r.save === "") {
    warn(
      'persistence is off (AOF: appendonly no; RDB: save ""): a restart of Redis loses every ' +
        "task, event and source (un reports it: /health degraded until `un store ack-reset`); " +
        "turn on AOF (appendonly yes), or at least RDB snapshots (save)",
    );
  } else if (r.aof === false && r.save !== null) {
    warn(
      `AOF is off and RDB snapshots run on "save ${r.save}": a restart of Redis loses what ` +
        "was written since the last snapshot, and un cannot tell (its epoch is in the " +
        "snapshot); turn on AOF (appendonly yes) to keep every acknowledged write",
    );
  } else if (r.aof !== true) {
    warn(
      "AOF is off or unknown and the RDB schedule cannot be read (CONFIG refused): make sure " +
        "Redis persists its data (AOF or RDB), or a restart loses every task",
    );
  }
  if (r.rdbLastStatus === "err") {
    error(
      "the last RDB snapshot failed (rdb_last_bgsave_status err): Redis refuses writes while " +
        "stop-writes-on-bgsave-error is yes; see Redis's log",
    );
  }
  if (r.aofLastWriteStatus === "err" || r.aofLastRewriteStatus === "err") {
    error(
      "the AOF is failing (aof_last_write_status or aof_last_bgrewrite_status err); see Redis's log",
    );
  }
  if (r.maxmemory && r.usedMemory !== null) {
    const share = r.usedMemory / r.maxmemory;
    if (share >= 1) {
      error(
        `Redis is out of memory (used ${r.usedMemory} of maxmemory ${r.maxmemory} bytes): writes are refused`,
      );
    } else if (share >= 0.9) {
      warn(`Redis is ${Math.round(share * 100)} % full (maxmemory ${r.maxmemory} bytes)`);
    }
  }
  if (r.reset !== null) {
    warn(
      `Redis lost its data at ${r.reset.at} and no operator has acknowledged it: run ` +
        "`un store ack-reset` once it is dealt with",
    );
  }
  return out;
}
