/**
 * `un store recover` keeps the schedules added at run time, the pause switch
 * of config-file schedules and each schedule's last run (the anchor of its
 * catch-up after downtime).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseSchedule } from "../lib/schedules/manage.ts";
import { recoverStoreFile } from "../lib/store/sqlite/recover.ts";
import { SQLITE_FILE, SqliteStore } from "../lib/store/sqlite/store.ts";

Deno.test("recover keeps schedules, pause switches and last runs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-recover-schedules-" });
  try {
    const store = SqliteStore.open(dir);
    const spec = parseSchedule({ id: "beat", every: "1m", task: "noop", catchUp: "one" });
    const beat = {
      id: "beat",
      origin: "api" as const,
      paused: false,
      spec,
      createdAt: 1,
      updatedAt: 1,
    };
    const cfg = {
      id: "cfg",
      origin: "config" as const,
      paused: true,
      spec: null,
      createdAt: 2,
      updatedAt: 2,
    };
    await store.putSchedule(beat);
    await store.putSchedule(cfg);
    const run = { tick: 60_000, at: 60_010, taskId: "t1", by: "schedule" as const };
    await store.recordScheduleRun("beat", run);
    await store.close();

    const report = recoverStoreFile(join(dir, SQLITE_FILE));
    const tables = new Map(report.tables.map((t) => [t.table, t]));
    assert.equal(tables.get("schedules")?.recovered, 2);
    assert.equal(tables.get("schedule_runs")?.recovered, 1);

    const again = SqliteStore.open(dir);
    try {
      assert.deepEqual(await again.listSchedules(), [beat, cfg]);
      assert.deepEqual(await again.scheduleRuns(), { beat: run });
    } finally {
      await again.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
