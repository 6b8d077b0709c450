/**
 * The embedded store opens a file written before `tasks.rate_group` existed
 * (schema version 1): the columns since (rate_group, parent_id, batch_id) are
 * added, stored tasks read as before and new ones keep their group and batch.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { SQLITE_FILE, SqliteStore } from "../lib/store/sqlite/store.ts";
import { newTask, T0 } from "./store/conformance.ts";

Deno.test("sqlite store: a version-1 file gains tasks.rate_group and keeps its tasks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-migrate-" });
  try {
    const first = SqliteStore.open(dir);
    const old =
      (await first.enqueue(newTask({ id: "old", queue: "ci", sortKey: T0 - 10 }), T0)).task;
    await first.close();
    // Make the file what a version-1 un wrote: no rate_group, parent_id or batch_id column.
    const db = new DatabaseSync(join(dir, SQLITE_FILE));
    db.exec("DROP INDEX tasks_batch");
    db.exec("ALTER TABLE tasks DROP COLUMN batch_id");
    db.exec("ALTER TABLE tasks DROP COLUMN parent_id");
    db.exec("ALTER TABLE tasks DROP COLUMN rate_group");
    db.exec("PRAGMA user_version = 1");
    db.close();

    const store = SqliteStore.open(dir);
    try {
      assert.deepEqual(await store.getTask("old"), old);
      await store.setRateLimits({ ci: { max: 1, perMs: 1_000, by: "{payload.repo}" } });
      const added = await store.enqueue(newTask({ queue: "ci", payload: { repo: "x" } }), T0);
      assert.equal((await store.getTask(added.task.id))?.rateGroup, "x");
      const claimed = await store.claim({ workerId: "w", queues: null, leaseMs: 1_000, now: T0 });
      assert.equal(claimed?.id, "old", 'a task stored without a group is claimed (group "")');
      const [child] = await store.enqueueMany([newTask({ parentId: "p", batchId: "p" })], T0);
      assert.equal((await store.getTask(child.task.id))?.batchId, "p");
      assert.equal((await store.getBatch("p"))?.total, 1);
    } finally {
      await store.close();
    }
    const check = new DatabaseSync(join(dir, SQLITE_FILE));
    assert.equal(check.prepare("PRAGMA user_version").get()?.user_version, 3);
    check.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
