/**
 * Conformance: sources, scanner state and the file index; coordination
 * (named leases, ticks, process records) and ping.
 */

import assert from "node:assert/strict";
import type { ProcessRecord, StoredSource } from "../../../lib/store/types.ts";
import { type StoreCase, T0 } from "./helpers.ts";

function source(
  id: string,
  createdAt: number,
  overrides: Partial<StoredSource> = {},
): StoredSource {
  return {
    id,
    kind: "fs",
    enabled: true,
    spec: { id, kind: "fs", path: `./${id}`, include: ["**/*.md"], debounceMs: 50 },
    origin: "api",
    createdAt,
    updatedAt: createdAt,
    ...overrides,
  };
}

/**
 * Cases of sources, source state and files.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(sourceCases)) await t.step(rule, () => body(store));
 * ```
 */
export const sourceCases: Record<string, StoreCase> = {
  "sources are upserted by id and listed by createdAt, then id": async (store) => {
    assert.deepEqual(await store.listSources(), []);
    const b = source("b", T0);
    const a = source("a", T0);
    const early = source("z", T0 - 5, {
      origin: "config",
      kind: "feed",
      spec: { url: "http://x" },
    });
    await store.putSource(b);
    await store.putSource(a);
    await store.putSource(early);
    assert.deepEqual(await store.listSources(), [early, a, b]);
    const disabled = { ...a, enabled: false, updatedAt: T0 + 9 };
    await store.putSource(disabled);
    assert.deepEqual(await store.getSource("a"), disabled);
    assert.equal(await store.getSource("nope"), null);
    assert.equal((await store.listSources()).length, 3);
  },

  "deleting a source drops its state and file index too": async (store) => {
    await store.putSource(source("docs", T0));
    await store.setSourceState("docs", "etag", 'W/"1"');
    await store.putFiles("docs", [{ path: "a.md", size: 1, mtimeMs: T0 }]);
    await store.setSourceState("other", "etag", "kept");
    assert.equal(await store.deleteSource("docs"), true);
    assert.equal(await store.deleteSource("docs"), false);
    assert.equal(await store.getSource("docs"), null);
    assert.equal(await store.getSourceState("docs", "etag"), null);
    assert.deepEqual(await store.listFiles("docs"), []);
    assert.equal(await store.getSourceState("other", "etag"), "kept");
  },

  "source state holds JSON per source and key; null deletes": async (store) => {
    assert.equal(await store.getSourceState("feed", "seen"), null);
    await store.setSourceState("feed", "seen", ["a", "b"]);
    await store.setSourceState("feed", "cursor", { page: 2, done: false });
    await store.setSourceState("other", "seen", 5);
    assert.deepEqual(await store.getSourceState("feed", "seen"), ["a", "b"]);
    await store.setSourceState("feed", "seen", ["c"]);
    assert.deepEqual(await store.getSourceState("feed", "seen"), ["c"]);
    await store.setSourceState("feed", "seen", null);
    assert.equal(await store.getSourceState("feed", "seen"), null);
    assert.deepEqual(await store.getSourceState("feed", "cursor"), { page: 2, done: false });
    assert.equal(await store.getSourceState("other", "seen"), 5);
  },

  "the file index is per source, upserted by path": async (store) => {
    await store.putFiles("docs", [
      { path: "b.md", size: 2, mtimeMs: T0 + 0.5 },
      { path: "a.md", size: 1, mtimeMs: T0 },
    ]);
    await store.putFiles("code", [{ path: "a.md", size: 9, mtimeMs: T0 }]);
    await store.putFiles("docs", [{ path: "a.md", size: 10, mtimeMs: T0 + 1 }]);
    const docs = (await store.listFiles("docs")).sort((x, y) => x.path.localeCompare(y.path));
    assert.deepEqual(docs, [
      { path: "a.md", size: 10, mtimeMs: T0 + 1 },
      { path: "b.md", size: 2, mtimeMs: T0 + 0.5 },
    ]);
    await store.deleteFiles("docs", ["a.md", "missing.md"]);
    assert.deepEqual(await store.listFiles("docs"), [{ path: "b.md", size: 2, mtimeMs: T0 + 0.5 }]);
    assert.deepEqual(await store.listFiles("code"), [{ path: "a.md", size: 9, mtimeMs: T0 }]);
  },
};

/**
 * Cases of named leases, ticks and ping.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(coordinationCases)) await t.step(rule, () => body(store));
 * ```
 */
export const coordinationCases: Record<string, StoreCase> = {
  "a named lease has one holder at a time; its fence grows when the holder changes": async (
    store,
  ) => {
    assert.equal(await store.leaseHolder("leader", T0), null, "never taken");
    assert.equal(await store.acquireLease("leader", "a", 1_000, T0), 1);
    assert.deepEqual(await store.leaseHolder("leader", T0 + 999), { holder: "a", fence: 1 });
    assert.equal(await store.leaseHolder("leader", T0 + 1_000), null, "run out");
    assert.equal(
      await store.acquireLease("leader", "a", 1_000, T0 + 500),
      1,
      "renewal keeps the fence",
    );
    assert.equal(await store.acquireLease("leader", "b", 1_000, T0 + 1_000), null);
    assert.equal(
      await store.acquireLease("leader", "b", 1_000, T0 + 1_501),
      2,
      "expired: taken over",
    );
    assert.equal(await store.acquireLease("leader", "a", 1_000, T0 + 1_600), null);
    await store.releaseLease("leader", "a"); // not the holder: no effect
    assert.equal(await store.acquireLease("leader", "a", 1_000, T0 + 1_700), null);
    await store.releaseLease("leader", "b");
    assert.equal(await store.leaseHolder("leader", T0 + 1_700), null, "released");
    assert.equal(await store.acquireLease("leader", "a", 1_000, T0 + 1_800), 3);
    assert.deepEqual(await store.leaseHolder("leader", T0 + 1_800), { holder: "a", fence: 3 });
    assert.equal(await store.acquireLease("other", "a", 1_000, T0), 1, "leases are independent");
  },

  "claimTick is true once per name and tick": async (store) => {
    assert.equal(await store.claimTick("nightly", T0), true);
    assert.equal(await store.claimTick("nightly", T0), false);
    assert.equal(await store.claimTick("nightly", T0 + 60_000), true);
    assert.equal(await store.claimTick("hourly", T0), true);
    const racing = await Promise.all([store.claimTick("race", T0), store.claimTick("race", T0)]);
    assert.deepEqual(racing.sort(), [false, true]);
  },

  "a process is listed until its record runs out; recording again keeps it, forgetting drops it":
    async (store) => {
      const record = (id: string, busy: number): ProcessRecord => ({
        id,
        role: "worker",
        host: "vm",
        pid: 7,
        startedAt: T0,
        seenAt: T0,
        concurrency: 4,
        busy,
        paused: false,
      });
      assert.deepEqual(await store.listProcesses(T0), []);
      await store.recordProcess(record("b", 0), 1_000, T0);
      await store.recordProcess(record("a", 1), 1_000, T0);
      assert.deepEqual(await store.listProcesses(T0 + 999), [record("a", 1), record("b", 0)]);
      await store.recordProcess(record("a", 3), 1_000, T0 + 500);
      assert.deepEqual(
        await store.listProcesses(T0 + 1_000),
        [record("a", 3)],
        "b ran out; a was recorded again, with its new figures",
      );
      await store.recordProcess(record("b", 0), 1_000, T0 + 1_000);
      assert.deepEqual((await store.listProcesses(T0 + 1_001)).map((p) => p.id), ["a", "b"]);
      await store.forgetProcess("a");
      assert.deepEqual((await store.listProcesses(T0 + 1_001)).map((p) => p.id), ["b"]);
      assert.deepEqual(await store.listProcesses(T0 + 5_000), [], "all run out");
    },

  "ping answers while the store is open": async (store) => {
    await store.ping();
  },
};
