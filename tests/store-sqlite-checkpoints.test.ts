/**
 * The embedded store's background checkpointer (lib/store/sqlite/checkpointer.ts):
 * once a store has written enough, a second connection on a worker thread
 * copies the WAL into the database file, the writer never waiting for it;
 * a flush stops it, so the writer's close is the last one on the file.
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { GroupCommit } from "../lib/store/sqlite/group-commit.ts";
import { applySchema } from "../lib/store/sqlite/schema.ts";
import { Sql } from "../lib/store/sqlite/statements.ts";

Deno.test("sqlite checkpoints: a worker thread copies the WAL into the file; flush stops it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-checkpoints-" });
  const file = join(dir, "un.db");
  const db = new DatabaseSync(file);
  applySchema(db);
  // The writer never checkpoints here: whatever reaches the file, the worker copied.
  db.exec("PRAGMA wal_autocheckpoint = 0");
  const sql = new Sql(db);
  const commits = new GroupCommit(sql);
  try {
    const body = "x".repeat(150_000);
    const before = Deno.statSync(file).size;
    // 96 commits of 150 KB: past the 8 MB and the 64 commits the checkpointer waits for.
    for (let i = 0; i < 96; i++) {
      await commits.write(() =>
        sql.run("INSERT INTO events (id, type, time_ms, body) VALUES (:id, 'x', 0, :body)", {
          id: String(i).padStart(4, "0"),
          body,
        })
      );
    }
    const deadline = Date.now() + 20_000;
    while (Deno.statSync(file).size < before + 8 * 1024 * 1024) {
      assert.ok(Date.now() < deadline, "the WAL was never copied into the database file");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    commits.flush();
    db.close();
  }
  // The writer's connection was the last: its close checkpointed and removed the WAL.
  assert.equal(existsSync(`${file}-wal`), false);
  const reopened = new DatabaseSync(file);
  assert.equal(reopened.prepare("SELECT count(*) AS n FROM events").get()?.n, 96);
  reopened.close();
  await Deno.remove(dir, { recursive: true });
});
