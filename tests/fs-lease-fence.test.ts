/**
 * An fs scanner whose source lease moved on (its process stalled past the
 * lease and another took the source over) publishes and persists nothing of
 * what it found: the new holder finds the same files and reports each once.
 * Real files, a real `Deno.watchFs`, a real store.
 */

import assert from "node:assert/strict";
import { sourceLease } from "../lib/sources/lease.ts";
import { quiet, seen, status, withTree, write } from "./helpers/fs-scanner.ts";
import { eventually } from "./helpers/eventually.ts";

Deno.test("an fs scanner under a lease that moved leaves its changes to the new holder", async () => {
  await withTree({}, async ({ root, store, start }) => {
    const name = sourceLease("tree");
    const now = Date.now();
    const stale = await store.acquireLease(name, "stalled-process", 1, now - 10);
    const fresh = await store.acquireLease(name, "new-holder", 60_000, now);
    assert.deepEqual([stale, fresh], [1, 2], "fences");

    // Its start-up reconciliation finds both files; the lease check refuses them.
    const stalled = start({ name, fence: stale! });
    await quiet();
    await write(root, "c.txt", "c");
    await quiet();
    stalled.actor.stop();
    assert.deepEqual(stalled.events, [], "events of the stalled scanner");
    assert.deepEqual(await store.listFiles("tree"), [], "files it recorded");
    assert.equal(await status(store), null, "status it wrote");

    const holder = start({ name, fence: fresh! });
    await eventually(() => holder.events.length >= 3, {
      timeoutMs: 10_000,
      message: "the holder's three files",
    });
    await quiet();
    assert.deepEqual(seen(holder.events), [
      "file.created a.txt",
      "file.created b.txt",
      "file.created c.txt",
    ]);
    assert.equal((await store.listFiles("tree")).length, 3, "files the holder recorded");
  }, { "a.txt": "a", "b.txt": "b" });
});
