/**
 * `un store recover` rebuilds a fresh store from the readable rows of every
 * table, including those made after the first release (paused queues, the
 * prioritizer's learned sums): a recovery must not quietly resume a queue an
 * operator paused.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { recoverStoreFile } from "../lib/store/sqlite/recover.ts";
import { SQLITE_FILE, SqliteStore } from "../lib/store/sqlite/store.ts";

Deno.test("recover keeps paused queues and the learned model's table", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-recover-" });
  try {
    const store = SqliteStore.open(dir);
    assert.equal(await store.setQueuePaused("mail", true), true);
    await store.close();

    const report = recoverStoreFile(join(dir, SQLITE_FILE));
    const tables = new Map(report.tables.map((t) => [t.table, t]));
    assert.equal(tables.get("queue_state")?.recovered, 1);
    assert.ok(tables.has("type_model"), "the learned model's table is copied");

    const again = SqliteStore.open(dir);
    try {
      assert.deepEqual(await again.pausedQueues(), ["mail"]);
    } finally {
      await again.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
