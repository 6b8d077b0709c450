/**
 * Conformance of `Coordination`: named leases with fences, once-per-tick
 * claims, and the process registry.
 */

import assert from "node:assert/strict";
import type { Coordination, ProcessRecord } from "../../../lib/store/types.ts";
import { type StoreCase, T0 } from "./helpers.ts";

/**
 * Cases of named leases, ticks and process records.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(coordinationCases)) await t.step(rule, () => body(store));
 * ```
 */
export const coordinationCases: Record<string, StoreCase<Coordination>> = {
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
};
