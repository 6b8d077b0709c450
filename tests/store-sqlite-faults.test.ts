/**
 * The embedded store's fault tracking, in process: SQLite's errors become
 * typed faults said once, a disk fault ends with the first write that lands,
 * and a store deleted under an open SqliteStore refuses writes while reads
 * of what it holds still answer.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  StoreDamagedError,
  StoreDiskError,
  StoreFaultError,
  StoreGoneError,
} from "../lib/errors.ts";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "../lib/store/sqlite/store.ts";
import { GroupCommit } from "../lib/store/sqlite/group-commit.ts";
import { Sql } from "../lib/store/sqlite/statements.ts";
import { type FaultChange, sqliteFaultKind, StoreFaults } from "../lib/store/sqlite/faults.ts";
import { newTask, T0 } from "./store/conformance.ts";
import { mountTmpfs, tmpfsSkipReason, unmountTmpfs } from "./helpers/tmpfs.ts";

Deno.test("SQLite's wording tells the fault", () => {
  assert.equal(sqliteFaultKind(new Error("database or disk is full")), "full");
  assert.equal(sqliteFaultKind(new Error("disk I/O error")), "io");
  assert.equal(sqliteFaultKind(new Error("database disk image is malformed")), "damaged");
  assert.equal(sqliteFaultKind(new Error("file is not a database")), "damaged");
  assert.equal(sqliteFaultKind(new Error("UNIQUE constraint failed: tasks.id")), null);
});

Deno.test("a disk fault is said once, and ends with the first write that changes rows", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-faults-" });
  try {
    const changes: FaultChange[] = [];
    let total = 10;
    const faults = new StoreFaults(dir, join(dir, "un.db"), {
      onFault: (change) => changes.push(change),
      totalChanges: () => total,
    });
    const full = faults.map(new Error("database or disk is full"));
    assert.ok(full instanceof StoreDiskError);
    assert.equal(full.status, 507);
    assert.match(full.message, new RegExp(`the disk holding ${dir} is full`));
    assert.equal(faults.map(new Error("database or disk is full")), full, "the same fault");
    faults.refuseWrite(); // a full disk does not refuse writes: a write is how it ends
    faults.committed(); // an empty commit proves nothing
    assert.equal(faults.current, full);
    total = 11;
    faults.committed();
    assert.equal(faults.current, null);
    assert.deepEqual(changes.map((c) => [c.kind, c.error === null]), [["full", false], [
      "full",
      true,
    ]]);
    faults.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a damaged page refuses further writes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-faults-" });
  try {
    const faults = new StoreFaults(dir, join(dir, "un.db"), { totalChanges: () => 0 });
    const damaged = faults.map(new Error("database disk image is malformed"));
    assert.ok(damaged instanceof StoreDamagedError);
    assert.match(damaged.message, /un store check.*un store recover/);
    assert.throws(() => faults.refuseWrite(), StoreDamagedError);
    faults.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a store deleted under an open SqliteStore: ping and writes fail, reads answer", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-faults-" });
  const changes: FaultChange[] = [];
  const store = SqliteStore.open(dir, { onFault: (change) => changes.push(change) });
  try {
    const { task } = await store.enqueue(newTask(), T0);
    await Deno.remove(dir, { recursive: true });
    await assert.rejects(store.ping(), (err: unknown) => {
      assert.ok(err instanceof StoreFaultError);
      assert.match(err.reasons[0], new RegExp(`store ${dir} was deleted while un was running`));
      return true;
    });
    await assert.rejects(store.enqueue(newTask(), T0), StoreGoneError);
    assert.equal((await store.getTask(task.id))?.id, task.id, "what it holds can still be read");
    await assert.rejects(store.ping(), StoreFaultError);
    assert.equal(changes.length, 1, "said once");
    assert.equal(changes[0].kind, "gone");
    assert.ok(changes[0].openCopies?.some((path) => path.includes("/fd/")));
  } finally {
    await store.close();
  }
});

Deno.test("a store file replaced under an open SqliteStore (restored from a copy) refuses writes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-faults-" });
  const store = SqliteStore.open(dir);
  try {
    await store.enqueue(newTask(), T0);
    const file = join(dir, "un.db");
    await Deno.copyFile(file, `${file}.copy`);
    await Deno.rename(`${file}.copy`, file); // same path, another inode
    await assert.rejects(store.ping(), (err: unknown) => {
      assert.ok(err instanceof StoreFaultError);
      assert.match(err.reasons[0], /was replaced while un was running.*Restart un/);
      return true;
    });
    await assert.rejects(store.enqueue(newTask(), T0), StoreGoneError);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

const skipReason = await tmpfsSkipReason();

Deno.test({
  name: skipReason === null
    ? "group commit: a write that makes SQLite roll the whole transaction back fails the writes it carried"
    : `group commit on a full disk (ignored: ${skipReason})`,
  ignore: skipReason !== null,
  fn: async () => {
    const mounted = await mountTmpfs("1m");
    if ("skip" in mounted) throw new Error(mounted.skip);
    const db = new DatabaseSync(join(mounted.dir, "t.db"));
    try {
      // A tiny page cache spills to the WAL mid-transaction; on a full disk
      // SQLite then rolls the whole transaction back, the earlier write too.
      db.exec("PRAGMA journal_mode = WAL; PRAGMA cache_size = 5");
      db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
      const sql = new Sql(db);
      const commits = new GroupCommit(sql, {
        mapError: (error) => new StoreDiskError(`mapped: ${(error as Error).message}`),
      });
      const small = commits.write(() => sql.run("INSERT INTO t (v) VALUES ('small')"));
      const big = commits.write(() => {
        for (let i = 0; i < 400; i++) {
          sql.run("INSERT INTO t (v) VALUES (:v)", { v: "x".repeat(4_000) });
        }
      });
      const settled = await Promise.allSettled([small, big]);
      for (const outcome of settled) {
        assert.equal(outcome.status, "rejected");
        assert.ok((outcome as PromiseRejectedResult).reason instanceof StoreDiskError);
      }
      assert.equal(db.prepare("SELECT count(*) AS n FROM t").get()?.n, 0, "nothing half-kept");
      // The next write starts a transaction of its own and lands.
      await commits.write(() => sql.run("INSERT INTO t (v) VALUES ('after')"));
      assert.equal(db.prepare("SELECT count(*) AS n FROM t").get()?.n, 1);
    } finally {
      db.close();
      await unmountTmpfs(mounted.dir);
    }
  },
});
