/**
 * The fs scanner actor as a user sees it: real files in a temp directory, a
 * real `Deno.watchFs`, a real SQLite store, and a tiny parent machine with
 * `systemId: "supervisor"` that collects what the scanner publishes
 * (tests/helpers/fs-scanner.ts).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { SqliteStore } from "../lib/store/sqlite/store.ts";
import { data, quiet, scan, scanned, seen, status, withTree, write } from "./helpers/fs-scanner.ts";
import { eventually } from "./helpers/eventually.ts";

Deno.test("first scan gives file.created for each existing file, never for .git/ or the store", async () => {
  const files = { "a.txt": "aaa", "sub/b.md": "b", "sub/deep/c.json": "{}", ".git/HEAD": "ref" };
  await withTree({}, async ({ root, store, start }) => {
    const run = start();
    await eventually(() => run.events.length >= 3, {
      timeoutMs: 10_000,
      message: "three created events",
    });
    await scanned(store);
    await quiet();
    assert.deepEqual(seen(run.events), [
      "file.created a.txt",
      "file.created sub/b.md",
      "file.created sub/deep/c.json",
    ]);
    const a = run.events.find((e) => e.subject === "a.txt")!;
    assert.equal(a.source, "/un/sources/tree");
    assert.equal(a.priority, "normal");
    assert.equal(data(a).path, join(root, "a.txt"));
    assert.equal(data(a).relativePath, "a.txt");
    assert.equal(data(a).size, 3);
    assert.equal(data(a).sourceId, "tree");
    assert.equal(typeof data(a).mtimeMs, "number");
    assert.deepEqual(run.crashes, []);
  }, files);
});

Deno.test("emitExisting false records a silent baseline; later files still give events", async () => {
  await withTree({ emitExisting: false, priority: "high" }, async ({ root, store, start }) => {
    const run = start();
    await scanned(store);
    await write(root, "new.txt", "n");
    await eventually(() => run.events.length >= 1, {
      timeoutMs: 10_000,
      message: "an event for new.txt",
    });
    await quiet();
    assert.deepEqual(seen(run.events), ["file.created new.txt"]);
    assert.equal(run.events[0].priority, "high");
  }, { "old1.txt": "1", "dir/old2.txt": "2" });
});

Deno.test("create, modify and delete while running give exactly one event each", async () => {
  await withTree({}, async ({ root, store, start }) => {
    const run = start();
    await scanned(store);
    await write(root, "x.txt", "one");
    await eventually(() => run.events.length >= 1, { timeoutMs: 10_000, message: "file.created" });
    await quiet();
    await write(root, "x.txt", "two, longer");
    await eventually(() => run.events.length >= 2, { timeoutMs: 10_000, message: "file.modified" });
    await quiet();
    await Deno.remove(join(root, "x.txt"));
    await eventually(() => run.events.length >= 3, { timeoutMs: 10_000, message: "file.deleted" });
    await quiet();
    assert.deepEqual(run.events.map((e) => e.type), [
      "file.created",
      "file.modified",
      "file.deleted",
    ]);
    assert.equal(data(run.events[1]).size, 11);
    // A deletion carries the last known size.
    assert.equal(data(run.events[2]).size, 11);
  });
});

Deno.test("changes made while stopped are reported on the next start, once", async () => {
  const files = { "keep.txt": "k", "change.txt": "c", "gone.txt": "g" };
  await withTree({}, async ({ root, store, start }) => {
    const first = start();
    await eventually(() => first.events.length >= 3, { timeoutMs: 10_000, message: "first scan" });
    await scanned(store);
    first.actor.stop();
    const stoppedAt = (await status(store))!.lastScanAt!;

    await write(root, "new.txt", "n");
    await write(root, "change.txt", "changed");
    await Deno.remove(join(root, "gone.txt"));

    const second = start();
    await scanned(store, stoppedAt);
    await quiet();
    assert.deepEqual(seen(second.events), [
      "file.created new.txt",
      "file.deleted gone.txt",
      "file.modified change.txt",
    ]);
  }, files);
});

Deno.test("a burst of 1 000 new files gives exactly 1 000 file.created", async () => {
  await withTree({}, async ({ root, store, start }) => {
    const run = start();
    await scanned(store);
    await Deno.mkdir(join(root, "burst"));
    const created = () => run.events.filter((e) => e.type === "file.created");
    const t0 = performance.now();
    const writes = [];
    for (let i = 0; i < 1000; i++) {
      writes.push(Deno.writeTextFile(join(root, "burst", `f${i}.txt`), `${i}`));
    }
    await Promise.all(writes);
    await eventually(() => created().length >= 1000, {
      timeoutMs: 30_000,
      message: "1000 file.created",
    });
    const ms = performance.now() - t0;
    await quiet();
    assert.equal(created().length, 1000);
    assert.equal(new Set(created().map((e) => e.subject)).size, 1000);
    // Under heavy load a file can be seen empty between its creation and its
    // write: that is a real second change (file.modified), never a repeat.
    const keys = run.events.map((e) => `${e.type} ${e.subject}`);
    assert.equal(new Set(keys).size, keys.length, "no event is repeated");
    assert.ok(run.events.every((e) => e.type === "file.created" || e.type === "file.modified"));
    console.log(
      `burst: 1000 files -> 1000 file.created in ${ms.toFixed(0)} ms ` +
        `(${(1_000_000 / ms).toFixed(0)} events/s, ${run.events.length - 1000} file.modified)`,
    );
    // The index was persisted with the final sizes.
    await eventually(async () => {
      const files = await store.listFiles("tree");
      return files.length === 1000 && files.every((f) => f.size === f.path.length - 11);
    }, { timeoutMs: 10_000, message: "index persisted" });
  });
});

Deno.test("exclude globs and .gitignore files (root, nested, and edited at run time)", async () => {
  const files = {
    ".gitignore": "build/\n*.tmp\n",
    "sub/.gitignore": "secret.txt\n",
    "a.txt": "a",
    "a.tmp": "t",
    "build/out.js": "o",
    "sub/secret.txt": "s",
    "sub/ok.txt": "ok",
    "logs/x.log": "l",
    "notes.md": "n",
  };
  await withTree({ exclude: ["**/*.log"] }, async ({ root, store, start }) => {
    const run = start();
    await scanned(store);
    await quiet();
    assert.deepEqual(seen(run.events), [
      "file.created .gitignore",
      "file.created a.txt",
      "file.created notes.md",
      "file.created sub/.gitignore",
      "file.created sub/ok.txt",
    ]);
    run.events.length = 0;
    await write(root, "b.tmp", "t");
    await write(root, "build/more.js", "m");
    await write(root, "sub/secret.txt", "changed");
    await write(root, "y.log", "l");
    await write(root, "b.txt", "b");
    await eventually(() => run.events.length >= 1, { timeoutMs: 10_000, message: "b.txt" });
    await quiet();
    assert.deepEqual(seen(run.events), ["file.created b.txt"]);

    // Ignoring *.md at run time: known markdown leaves the source, new markdown is not seen.
    run.events.length = 0;
    await write(root, ".gitignore", "build/\n*.tmp\n*.md\n");
    await eventually(() => run.events.length >= 2, {
      timeoutMs: 10_000,
      message: ".gitignore change handled",
    });
    await write(root, "new.md", "m");
    await quiet();
    assert.deepEqual(seen(run.events), ["file.deleted notes.md", "file.modified .gitignore"]);
  }, files);
});

Deno.test("include globs limit the source to matching files, at any depth", async () => {
  const files = { "a.md": "a", "b.txt": "b", "docs/c.md": "c", "docs/d.js": "d" };
  await withTree({ include: ["**/*.md"] }, async ({ root, store, start }) => {
    const run = start();
    await scanned(store);
    await write(root, "docs/deeper/e.md", "e");
    await write(root, "docs/deeper/f.txt", "f");
    await eventually(() => run.events.length >= 3, {
      timeoutMs: 10_000,
      message: "three markdown files",
    });
    await quiet();
    assert.deepEqual(seen(run.events), [
      "file.created a.md",
      "file.created docs/c.md",
      "file.created docs/deeper/e.md",
    ]);
  }, files);
});

Deno.test("source.scan reconciles now and replies with the number of changes", async () => {
  // A long debounce keeps the watcher out of it: the scan must find the change itself.
  await withTree({ debounceMs: 5_000, maxDelayMs: 10_000 }, async ({ root, store, start }) => {
    const run = start();
    assert.deepEqual(await scan(run), { changes: 1 });
    await write(root, "b.txt", "b");
    await write(root, "a.txt", "changed");
    assert.deepEqual(await scan(run), { changes: 2 });
    assert.deepEqual(await scan(run), { changes: 0 });
    assert.deepEqual(seen(run.events), [
      "file.created a.txt",
      "file.created b.txt",
      "file.modified a.txt",
    ]);
    assert.ok((await status(store))!.lastScanAt! > 0);
  }, { "a.txt": "a" });
});

Deno.test("a new directory tree made at once gives every file inside it", async () => {
  await withTree({}, async ({ root, store, start }) => {
    const run = start();
    await scanned(store);
    await Deno.mkdir(join(root, "n1/n2/n3"), { recursive: true });
    await Deno.writeTextFile(join(root, "n1/one.txt"), "1");
    await Deno.writeTextFile(join(root, "n1/n2/two.txt"), "2");
    await Deno.writeTextFile(join(root, "n1/n2/n3/three.txt"), "3");
    await eventually(() => run.events.length >= 3, { timeoutMs: 10_000, message: "three files" });
    await quiet();
    assert.deepEqual(seen(run.events), [
      "file.created n1/n2/n3/three.txt",
      "file.created n1/n2/two.txt",
      "file.created n1/one.txt",
    ]);
  });
});

Deno.test("a renamed file gives file.renamed; a removed directory gives file.deleted per file", async () => {
  const files = { "a.txt": "a", "d/x.txt": "x", "d/y/z.txt": "z" };
  await withTree({}, async ({ root, store, start }) => {
    const run = start();
    await eventually(() => run.events.length >= 3, { timeoutMs: 10_000, message: "first scan" });
    await scanned(store);
    run.events.length = 0;
    await Deno.rename(join(root, "a.txt"), join(root, "b.txt"));
    await eventually(() => run.events.length >= 1, { timeoutMs: 10_000, message: "rename" });
    await quiet();
    assert.deepEqual(seen(run.events), ["file.renamed b.txt"]);
    assert.equal(data(run.events[0]).from, "a.txt");
    assert.equal(data(run.events[0]).to, "b.txt");
    run.events.length = 0;
    await Deno.remove(join(root, "d"), { recursive: true });
    await eventually(() => run.events.length >= 2, { timeoutMs: 10_000, message: "deletions" });
    await quiet();
    assert.deepEqual(seen(run.events), ["file.deleted d/x.txt", "file.deleted d/y/z.txt"]);
  }, files);
});

Deno.test("a missing or vanished root is an error in the status, and is watched again when it returns", async () => {
  const base = await Deno.makeTempDir({ prefix: "un-fs-root-" });
  const tree = join(base, "tree");
  const lastError = async (store: SqliteStore) => (await status(store))?.lastError ?? null;
  try {
    await withTree({ path: tree }, async ({ store, start }) => {
      const run = start();
      await eventually(async () => (await lastError(store)) !== null, {
        timeoutMs: 10_000,
        message: "an error in the status",
      });
      assert.match((await lastError(store))!, /does not exist/);
      await write(tree, "a.txt", "a");
      await eventually(() => run.events.length >= 1, {
        timeoutMs: 15_000,
        message: "a.txt once the root exists",
      });
      await eventually(async () => (await lastError(store)) === null, {
        timeoutMs: 10_000,
        message: "the error cleared",
      });

      // Removed while watched: an outage, not a deletion of every file.
      await Deno.remove(tree, { recursive: true });
      await eventually(async () => (await lastError(store)) !== null, {
        timeoutMs: 10_000,
        message: "the removal in the status",
      });
      await write(tree, "b.txt", "b");
      await eventually(() => run.events.length >= 3, {
        timeoutMs: 15_000,
        message: "the tree reconciled on its return",
      });
      await quiet();
      assert.deepEqual(seen(run.events), [
        "file.created a.txt",
        "file.created b.txt",
        "file.deleted a.txt",
      ]);
      assert.deepEqual(run.crashes, []);
    });
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("with an interval, a periodic reconciliation finds changes on its own", async () => {
  // The watcher's debounce is longer than the test: only the periodic scan can report.
  const source = { debounceMs: 60_000, maxDelayMs: 120_000, interval: 200 };
  await withTree(source, async ({ root, store, start }) => {
    const run = start();
    await scanned(store);
    await write(root, "p.txt", "p");
    await eventually(() => run.events.length >= 1, {
      timeoutMs: 5_000,
      message: "file.created from the periodic scan",
    });
    assert.deepEqual(seen(run.events), ["file.created p.txt"]);
    assert.ok((await status(store))!.nextPollAt! > Date.now() - 1_000);
  });
});

Deno.test("debug.crash makes the scanner throw, so its supervisor sees a crash", async () => {
  await withTree({}, async ({ store, start }) => {
    const run = start();
    await scanned(store);
    run.actor.send({ type: "debug.crash", actor: "tree" });
    await eventually(() => run.crashes.length === 1, { timeoutMs: 10_000, message: "the crash" });
    assert.match(String(run.crashes[0]), /fault injected/);
  });
});
