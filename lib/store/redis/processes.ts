/**
 * Process records on Redis: one hash (`<prefix>procs`), process id → JSON of
 * its ProcessRecord and `until`, the time after which it is no longer listed.
 * A record that ran out is removed by whoever lists it next, by a script that
 * leaves it alone if the process recorded itself again in between.
 */

import type { ProcessRecord } from "../types.ts";
import { guarded, type RedisContext, runScript } from "./context.ts";

interface StoredRecord extends ProcessRecord {
  until: number;
}

/**
 * Records or refreshes a process.
 */
export async function recordProcess(
  ctx: RedisContext,
  record: ProcessRecord,
  ttlMs: number,
  now: number,
): Promise<void> {
  const stored: StoredRecord = { ...record, until: now + ttlMs };
  await guarded(
    { op: "recordProcess" },
    () => ctx.redis.hset(ctx.keys.processes, record.id, JSON.stringify(stored)),
  );
}

/**
 * The processes listed at `now`, by id; run-out records are removed.
 */
export async function listProcesses(ctx: RedisContext, now: number): Promise<ProcessRecord[]> {
  const all = await guarded({ op: "listProcesses" }, () => ctx.redis.hgetall(ctx.keys.processes));
  const live: ProcessRecord[] = [];
  for (const [id, json] of Object.entries(all)) {
    const stored = parse(json);
    if (stored !== null && stored.until > now) {
      const { until: _until, ...record } = stored;
      live.push(record);
    } else {
      await runScript(ctx, "dropProcess", [ctx.keys.processes], [id, json], {
        op: "listProcesses",
      });
    }
  }
  return live.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Removes a process's record.
 */
export async function forgetProcess(ctx: RedisContext, id: string): Promise<void> {
  await guarded({ op: "forgetProcess" }, () => ctx.redis.hdel(ctx.keys.processes, id));
}

/** A stored record, or null for one that is not (written by something else): it is removed. */
function parse(json: string): StoredRecord | null {
  try {
    const value = JSON.parse(json) as Partial<StoredRecord> | null;
    return typeof value?.id === "string" && typeof value.until === "number"
      ? value as StoredRecord
      : null;
  } catch {
    return null;
  }
}
