/**
 * Coordination primitives (named leases with fences, once-per-tick claims) and
 * the learned per-type run statistics. On the embedded store only one process
 * uses the file, but the semantics match the shared store's so callers need
 * not care which one they have.
 */

import type { Coordination, LeaseHolding, ProcessRecord } from "../coordination.ts";
import {
  modelAfter,
  runBatchWeight,
  type RunSample,
  storedModel,
  type TypeStats,
} from "../task-store.ts";
import type { SqliteRw } from "./access.ts";
import { liveProcesses, removeProcess, writeProcess } from "./processes.ts";
import { num, type Sql, text } from "./statements.ts";

/** Claimed ticks kept per name; older ones are forgotten (a tick is claimed once, soon). */
const TICKS_KEPT = 1_000;

/**
 * Takes or renews a named lease. The fence increments whenever the holder
 * changes (a release counts as a change) and is returned; null when another
 * holder's lease has not run out.
 */
export function acquireNamedLease(
  sql: Sql,
  name: string,
  holder: string,
  ttlMs: number,
  now: number,
): number | null {
  const row = sql.get("SELECT holder, fence, until FROM leases WHERE name = :name", { name });
  const until = now + ttlMs;
  if (row === undefined) {
    sql.run("INSERT INTO leases (name, holder, fence, until) VALUES (:name, :holder, 1, :until)", {
      name,
      holder,
      until,
    });
    return 1;
  }
  const current = row.holder === null ? null : text(row, "holder");
  if (current !== null && current !== holder && num(row, "until") > now) return null;
  const fence = current === holder ? num(row, "fence") : num(row, "fence") + 1;
  sql.run("UPDATE leases SET holder = :holder, fence = :fence, until = :until WHERE name = :name", {
    name,
    holder,
    fence,
    until,
  });
  return fence;
}

/**
 * Frees a named lease if `holder` holds it (its fence is kept, so the next
 * holder gets a higher one).
 */
export function releaseNamedLease(sql: Sql, name: string, holder: string): void {
  sql.run("UPDATE leases SET holder = NULL, until = 0 WHERE name = :name AND holder = :holder", {
    name,
    holder,
  });
}

/**
 * Who holds a named lease at `now`; null when it is free or ran out.
 */
export function namedLeaseHolder(sql: Sql, name: string, now: number): LeaseHolding | null {
  const row = sql.get("SELECT holder, fence FROM leases WHERE name = :name AND until > :now", {
    name,
    now,
  });
  return row && typeof row.holder === "string"
    ? { holder: row.holder, fence: Number(row.fence) }
    : null;
}

/**
 * True the first time `(name, tick)` is claimed.
 */
export function claimOnce(sql: Sql, name: string, tick: number): boolean {
  const claimed = sql.run("INSERT OR IGNORE INTO ticks (name, tick) VALUES (:name, :tick)", {
    name,
    tick,
  }) === 1;
  if (claimed) {
    sql.run(
      `DELETE FROM ticks WHERE name = :name AND tick < (
         SELECT tick FROM ticks WHERE name = :name ORDER BY tick DESC LIMIT 1 OFFSET :kept)`,
      { name, kept: TICKS_KEPT },
    );
  }
  return claimed;
}

/**
 * Adds a batch of runs of `type` to its counts, moves the moving average of
 * run time toward the batch's mean and folds the batch into the decayed model
 * (see `Store.recordRuns`), inside the caller's write transaction.
 */
export function recordTypeRuns(sql: Sql, type: string, sample: RunSample, now: number): void {
  if (!(sample.runs >= 1)) return;
  const old = readTypeStats(sql, type);
  const model = modelAfter(old ? storedModel(old) : null, old?.updatedAt ?? now, sample, now);
  sql.run(
    `INSERT INTO type_stats (type, runs, failures, avg_ms, updated_at)
     VALUES (:type, :runs, :failures, :mean, :now)
     ON CONFLICT (type) DO UPDATE SET runs = runs + :runs, failures = failures + :failures,
       avg_ms = avg_ms + :weight * (:mean - avg_ms), updated_at = :now`,
    {
      type,
      runs: sample.runs,
      failures: sample.failures,
      mean: sample.meanMs,
      now,
      weight: runBatchWeight(sample.runs),
    },
  );
  sql.run(
    `INSERT OR REPLACE INTO type_model (type, weight, fail_weight, log_sum, log_sq_sum)
     VALUES (:type, :weight, :failWeight, :logSum, :logSqSum)`,
    { type, ...model },
  );
}

/**
 * Learned statistics of a type, or null before its first run.
 */
export function readTypeStats(sql: Sql, type: string): TypeStats | null {
  const row = sql.get(
    `SELECT s.*, m.weight, m.fail_weight, m.log_sum, m.log_sq_sum
     FROM type_stats s LEFT JOIN type_model m ON m.type = s.type WHERE s.type = :type`,
    { type },
  );
  if (row === undefined) return null;
  const stats: TypeStats = {
    type: text(row, "type"),
    runs: num(row, "runs"),
    failures: num(row, "failures"),
    avgMs: num(row, "avg_ms"),
    updatedAt: num(row, "updated_at"),
  };
  if (row.weight !== null && row.weight !== undefined) {
    stats.model = {
      weight: num(row, "weight"),
      failWeight: num(row, "fail_weight"),
      logSum: num(row, "log_sum"),
      logSqSum: num(row, "log_sq_sum"),
    };
  }
  return stats;
}

/**
 * The embedded {@link Coordination}: leases, ticks and process records.
 */
export class SqliteCoordination implements Coordination {
  constructor(private readonly rw: SqliteRw) {}

  acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<number | null> {
    return this.rw.write((sql) => acquireNamedLease(sql, name, holder, ttlMs, now));
  }
  releaseLease(name: string, holder: string): Promise<void> {
    return this.rw.write((sql) => releaseNamedLease(sql, name, holder));
  }
  leaseHolder(name: string, now: number): Promise<LeaseHolding | null> {
    return this.rw.read((sql) => namedLeaseHolder(sql, name, now));
  }
  claimTick(name: string, tick: number): Promise<boolean> {
    return this.rw.write((sql) => claimOnce(sql, name, tick));
  }
  recordProcess(record: ProcessRecord, ttlMs: number, now: number): Promise<void> {
    return this.rw.write((sql) => writeProcess(sql, record, ttlMs, now));
  }
  listProcesses(now: number): Promise<ProcessRecord[]> {
    // A write: run-out records are removed as they are found.
    return this.rw.write((sql) => liveProcesses(sql, now));
  }
  forgetProcess(id: string): Promise<void> {
    return this.rw.write((sql) => removeProcess(sql, id));
  }
}
