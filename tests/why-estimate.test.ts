/**
 * lib/tasks/why.ts over a real embedded store with driven time: the start
 * estimate from the queue's recent throughput, and a resource no live worker
 * has (the case an embedded `un start` refuses at create, so only a store
 * with a second process's record shows it).
 */

import assert from "node:assert/strict";
import type { ProcessRecord } from "../lib/store/coordination.ts";
import { whyWaiting } from "../lib/tasks/why.ts";
import { add, newTask, T0 } from "./store/conformance.ts";
import { withSqliteStore } from "./helpers/sqlite-store.ts";
import { finished } from "./store/conformance/helpers.ts";

function worker(overrides: Partial<ProcessRecord> = {}): ProcessRecord {
  return {
    id: "p1",
    role: "all",
    host: "h",
    pid: 1,
    startedAt: T0,
    seenAt: T0,
    concurrency: 2,
    busy: 0,
    paused: false,
    types: ["noop"],
    resources: { gpu: 1 },
    ...overrides,
  };
}

Deno.test("the estimate: tasks ahead at the queue's recent rate", async () => {
  await withSqliteStore(async (store) => {
    await store.recordProcess(worker(), 60_000, T0);
    // 20 tasks of queue q finished over the last 10 s: 2 a second.
    for (let i = 0; i < 20; i++) {
      await finished(store, T0 - 10_000 + i * 500, { ok: true }, { queue: "q" });
    }
    for (let i = 0; i < 4; i++) await add(store, { queue: "q", sortKey: T0 - 100 + i }, T0);
    const mine = await store.enqueue(newTask({ queue: "q", sortKey: T0 + 50 }), T0);
    const why = await whyWaiting(mine.task.id, { store, now: T0 });
    assert.ok(why);
    assert.deepEqual(why.holds, []);
    assert.deepEqual(why.position, { place: 5, ahead: 4, aheadByPriority: { 5: 4 } });
    assert.ok(why.estimate, "an estimate");
    // 4 ahead at 2/s (20 finished from T0-10 s to T0-0.5 s: 20 in 10 s) is 2 s.
    assert.equal(why.estimate.inMs, 2_000);
    assert.match(why.estimate.basis, /4 ahead at 2 tasks\/s/);
    assert.match(why.summary, /number 5 in line/);
  });
});

Deno.test("no estimate when nothing of the queue finished lately; first in line starts now", async () => {
  await withSqliteStore(async (store) => {
    await store.recordProcess(worker(), 60_000, T0);
    const first = await add(store, { queue: "idle", sortKey: T0 - 1 }, T0);
    const second = await add(store, { queue: "idle", sortKey: T0 }, T0);
    assert.deepEqual((await whyWaiting(first.id, { store, now: T0 }))?.estimate, {
      startAt: T0,
      inMs: 0,
      basis: "first in line",
    });
    assert.equal((await whyWaiting(second.id, { store, now: T0 }))?.estimate, null);
  });
});

Deno.test("a resource no live worker has enough of", async () => {
  await withSqliteStore(async (store) => {
    await store.recordProcess(worker(), 60_000, T0);
    const task = await add(store, { resources: { gpu: 2 } }, T0);
    const why = await whyWaiting(task.id, { store, now: T0 });
    assert.deepEqual(why?.holds.map((h) => h.kind), ["resources"]);
    assert.deepEqual(why?.holds[0].resources, [{ resource: "gpu", needs: 2, most: 1 }]);
    assert.match(why?.holds[0].message ?? "", /the most any live process has is gpu: 1/);
    assert.equal(why?.estimate, null);
    assert.equal(await whyWaiting("01NOSUCH", { store, now: T0 }), null);
  });
});
