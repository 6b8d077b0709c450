/**
 * Conformance: read views over tasks (queueCounts, listTasks) and the learned
 * type statistics.
 */

import assert from "node:assert/strict";
import type { QueueCounts } from "../../../lib/store/types.ts";
import { add, mustClaim, newTask, type StoreCase, T0 } from "./helpers.ts";

const zero: QueueCounts = {
  waiting: 0,
  scheduled: 0,
  queued: 0,
  running: 0,
  retrying: 0,
  succeeded: 0,
  failed: 0,
  dead: 0,
  cancelled: 0,
  expired: 0,
};

/**
 * Cases of `queueCounts`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(countCases)) await t.step(rule, () => body(store));
 * ```
 */
export const countCases: Record<string, StoreCase> = {
  "counts by queue and state, every state present": async (store) => {
    assert.deepEqual(await store.queueCounts(), {});
    const root = await add(store, { queue: "mail" });
    await add(store, { queue: "mail", dependsOn: [root.id] });
    await add(store, { queue: "mail", runAt: T0 + 1_000 });
    await add(store, { queue: "video" });
    await add(store, { queue: "video" });
    await mustClaim(store, T0, { queues: ["video"] });
    const cancelled = await add(store, { queue: "video" });
    await store.cancel(cancelled.id, T0);
    assert.deepEqual(await store.queueCounts(), {
      mail: { ...zero, queued: 1, waiting: 1, scheduled: 1 },
      video: { ...zero, queued: 1, running: 1, cancelled: 1 },
    });
  },
};

/**
 * Cases of `listTasks`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(listCases)) await t.step(rule, () => body(store));
 * ```
 */
export const listCases: Record<string, StoreCase> = {
  "newest first by createdAt, then id; filters combine": async (store) => {
    const old = await add(store, { createdAt: T0 - 1_000, type: "embed", queue: "a" });
    const midA = await add(store, { createdAt: T0, type: "embed", queue: "b" });
    const midB = await add(store, { createdAt: T0, type: "mail", queue: "a" });
    const young = await add(store, { createdAt: T0 + 1_000, type: "embed", queue: "a" });
    await store.cancel(young.id, T0);
    assert.deepEqual((await store.listTasks({})).map((t) => t.id), [
      young.id,
      midB.id,
      midA.id,
      old.id,
    ]);
    assert.deepEqual((await store.listTasks({ type: "embed" })).map((t) => t.id), [
      young.id,
      midA.id,
      old.id,
    ]);
    assert.deepEqual((await store.listTasks({ queue: "a", state: "queued" })).map((t) => t.id), [
      midB.id,
      old.id,
    ]);
    assert.deepEqual(
      (await store.listTasks({ queue: "a", type: "embed", state: "queued" })).map((t) => t.id),
      [old.id],
    );
    assert.deepEqual((await store.listTasks({ limit: 2 })).map((t) => t.id), [young.id, midB.id]);
    assert.deepEqual(await store.listTasks({ state: "running" }), []);
  },

  "the default limit is 100": async (store) => {
    await store.enqueueMany(Array.from({ length: 105 }, () => newTask()), T0);
    assert.equal((await store.listTasks({})).length, 100);
    assert.equal((await store.listTasks({ limit: 105 })).length, 105);
  },
};

/**
 * Cases of `recordRuns` and `typeStats`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(statsCases)) await t.step(rule, () => body(store));
 * ```
 */
export const statsCases: Record<string, StoreCase> = {
  "the learned model's sums decay by the half-life since the last write, then add the batch":
    async (store) => {
      const sample = { runs: 8, failures: 2, meanMs: 10, logSum: 16, logSqSum: 40 };
      await store.recordRuns("embed", { ...sample, halfLifeMs: 1_000 }, T0);
      await store.recordRuns("embed", { ...sample, halfLifeMs: 1_000 }, T0 + 2_000);
      const model = (await store.typeStats("embed"))?.model;
      // A quarter of the first batch is left two half-lives later.
      const near = (a: number | undefined, b: number) =>
        assert.ok(Math.abs((a ?? NaN) - b) < 1e-9, `${a} is not ${b}`);
      near(model?.weight, 8 * 1.25);
      near(model?.failWeight, 2 * 1.25);
      near(model?.logSum, 16 * 1.25);
      near(model?.logSqSum, 40 * 1.25);
    },

  "runs and failures add up; avgMs is a moving average (alpha 0.2 per run)": async (store) => {
    assert.equal(await store.typeStats("embed"), null);
    await store.recordRuns("embed", { runs: 1, failures: 0, meanMs: 100 }, T0);
    const l100 = Math.log(100);
    assert.deepEqual(await store.typeStats("embed"), {
      type: "embed",
      runs: 1,
      failures: 0,
      avgMs: 100,
      updatedAt: T0,
      model: { weight: 1, failWeight: 0, logSum: l100, logSqSum: l100 * l100 },
    });
    await store.recordRuns("embed", { runs: 1, failures: 1, meanMs: 200 }, T0 + 5);
    const stats = await store.typeStats("embed");
    assert.equal(stats?.runs, 2);
    assert.equal(stats?.failures, 1);
    assert.ok(Math.abs((stats?.avgMs ?? 0) - 120) < 1e-9, `avgMs ${stats?.avgMs}`);
    assert.equal(stats?.updatedAt, T0 + 5);
    assert.equal(await store.typeStats("other"), null);
  },

  "a batch of n runs moves avgMs as n runs of its mean would (weight 1 − 0.8^n)": async (
    store,
  ) => {
    await store.recordRuns("embed", { runs: 4, failures: 1, meanMs: 50 }, T0);
    const l50 = Math.log(50);
    assert.deepEqual(await store.typeStats("embed"), {
      type: "embed",
      runs: 4,
      failures: 1,
      avgMs: 50,
      updatedAt: T0,
      model: { weight: 4, failWeight: 1, logSum: 4 * l50, logSqSum: 4 * l50 * l50 },
    });
    await store.recordRuns("embed", { runs: 3, failures: 2, meanMs: 150 }, T0 + 1_000);
    const stats = await store.typeStats("embed");
    assert.equal(stats?.runs, 7);
    assert.equal(stats?.failures, 3);
    // Three runs of 150 one by one: 50 → 70 → 86 → 98.8.
    assert.ok(Math.abs((stats?.avgMs ?? 0) - 98.8) < 1e-9, `avgMs ${stats?.avgMs}`);
    assert.equal(stats?.updatedAt, T0 + 1_000);
  },

  "a sample of no runs changes nothing": async (store) => {
    await store.recordRuns("embed", { runs: 0, failures: 0, meanMs: 0 }, T0);
    assert.equal(await store.typeStats("embed"), null);
    await store.recordRuns("embed", { runs: 2, failures: 0, meanMs: 10 }, T0);
    await store.recordRuns("embed", { runs: 0, failures: 0, meanMs: 0 }, T0 + 5);
    const l10 = Math.log(10);
    assert.deepEqual(await store.typeStats("embed"), {
      type: "embed",
      runs: 2,
      failures: 0,
      avgMs: 10,
      updatedAt: T0,
      model: { weight: 2, failWeight: 0, logSum: 2 * l10, logSqSum: 2 * l10 * l10 },
    });
  },
};
