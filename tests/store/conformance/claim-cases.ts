/**
 * Conformance: claiming (order, queues, resources, expiry, exclusivity) and the
 * lease a claim takes (renew, progress, fencing).
 */

import assert from "node:assert/strict";
import { LeaseLostError } from "../../../lib/errors.ts";
import { add, claimNext, fetchTask, mustClaim, type StoreCase, T0 } from "./helpers.ts";
import { resourceCases } from "./resource-cases.ts";

/**
 * Cases of `claim`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(claimCases)) await t.step(rule, () => body(store));
 * ```
 */
export const claimCases: Record<string, StoreCase> = {
  "the lowest sortKey goes first, ties by lowest id, and the claim leases it": async (store) => {
    const late = await add(store, { sortKey: T0 + 500 });
    const tieA = await add(store, { sortKey: T0 });
    const tieB = await add(store, { sortKey: T0 });
    const early = await add(store, { sortKey: T0 - 500 });
    const claimed = await mustClaim(store, T0 + 10, { workerId: "w7", leaseMs: 1_000 });
    assert.equal(claimed.id, early.id);
    assert.equal(claimed.state, "running");
    assert.equal(claimed.workerId, "w7");
    assert.equal(claimed.attempts, 1);
    assert.equal(claimed.fence, 1);
    assert.equal(claimed.leaseUntil, T0 + 1_010);
    assert.equal(claimed.startedAt, T0 + 10);
    assert.equal(claimed.progress, 0);
    assert.equal(claimed.progressMessage, null);
    assert.deepEqual(await store.getTask(early.id), claimed);
    const order = [];
    for (let task = await claimNext(store); task; task = await claimNext(store)) {
      order.push(task.id);
    }
    assert.deepEqual(order, [tieA.id, tieB.id, late.id]);
  },

  "only queued tasks are claimed; none left gives null": async (store) => {
    await add(store, { runAt: T0 + 60_000 });
    const pending = await add(store);
    await add(store, { dependsOn: [pending.id] });
    assert.equal((await mustClaim(store)).id, pending.id);
    assert.equal(await claimNext(store), null);
  },

  "queues limit what is taken; null takes from every queue": async (store) => {
    const mail = await add(store, { queue: "mail", sortKey: T0 - 10 });
    const video = await add(store, { queue: "video", sortKey: T0 - 20 });
    const other = await add(store, { queue: "other", sortKey: T0 - 30 });
    assert.equal(await claimNext(store, T0, { queues: ["nothing-here"] }), null);
    assert.equal((await mustClaim(store, T0, { queues: ["mail", "video"] })).id, video.id);
    assert.equal((await mustClaim(store, T0, { queues: ["mail", "video"] })).id, mail.id);
    assert.equal(await claimNext(store, T0, { queues: ["mail", "video"] }), null);
    assert.equal((await mustClaim(store, T0, { queues: null })).id, other.id);
  },

  "across several queues the order is still sortKey, then id": async (store) => {
    const first = await add(store, { queue: "b", sortKey: T0 });
    const second = await add(store, { queue: "a", sortKey: T0 });
    const third = await add(store, { queue: "c", sortKey: T0 });
    const queues = ["c", "a", "b"];
    const order = [];
    for (
      let task = await claimNext(store, T0, { queues });
      task;
      task = await claimNext(store, T0, { queues })
    ) {
      order.push(task.id);
    }
    assert.deepEqual(order, [first.id, second.id, third.id]);
  },

  "a task whose resources do not fit is skipped, not blocking smaller ones": async (store) => {
    const big = await add(store, { resources: { gpu: 2 }, sortKey: T0 - 3 });
    const needsRam = await add(store, { resources: { ramGb: 1 }, sortKey: T0 - 2 });
    const small = await add(store, { resources: { gpu: 1 }, sortKey: T0 - 1 });
    const available = { gpu: 1 };
    assert.equal((await mustClaim(store, T0, { available })).id, small.id);
    assert.equal(await claimNext(store, T0, { available }), null);
    assert.equal((await fetchTask(store, big.id)).state, "queued");
    assert.equal((await mustClaim(store, T0, { available: { gpu: 2, ramGb: 4 } })).id, big.id);
    assert.equal((await mustClaim(store, T0, { available: null })).id, needsRam.id);
  },

  "a queued task past its expiresAt is not claimed and ends expired": async (store) => {
    const stale = await add(store, { expiresAt: T0 + 100, sortKey: T0 - 1 });
    const fresh = await add(store, { expiresAt: T0 + 10_000 });
    assert.equal((await mustClaim(store, T0 + 100)).id, fresh.id);
    const expired = await fetchTask(store, stale.id);
    assert.equal(expired.state, "expired");
    assert.equal(await claimNext(store, T0 + 100), null);
  },

  "concurrent claims never hand out the same task twice": async (store) => {
    for (let i = 0; i < 5; i++) await add(store);
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, i) => claimNext(store, T0, { workerId: `w${i}` })),
    );
    const ids = claims.filter((task) => task !== null).map((task) => task!.id);
    assert.equal(ids.length, 5);
    assert.equal(new Set(ids).size, 5);
  },

  ...resourceCases,
};

/**
 * Cases of `renew`, `progress` and fencing of a worker's calls.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(leaseCases)) await t.step(rule, () => body(store));
 * ```
 */
export const leaseCases: Record<string, StoreCase> = {
  "renew extends the lease only for the current fence of a running task": async (store) => {
    const queued = await add(store);
    assert.equal(await store.renew(queued.id, 0, 1_000, T0), false);
    const running = await mustClaim(store);
    assert.equal(await store.renew(running.id, running.fence, 5_000, T0 + 100), true);
    assert.equal((await fetchTask(store, running.id)).leaseUntil, T0 + 5_100);
    assert.equal(await store.renew(running.id, running.fence + 1, 5_000, T0 + 200), false);
    assert.equal(await store.renew("no-such-task", 1, 5_000, T0), false);
    assert.equal((await fetchTask(store, running.id)).leaseUntil, T0 + 5_100);
  },

  "progress is clamped to 0..1 with its message; a wrong fence is LeaseLostError": async (
    store,
  ) => {
    await add(store);
    const running = await mustClaim(store);
    await store.progress(running.id, running.fence, 0.4, "reading");
    let task = await fetchTask(store, running.id);
    assert.equal(task.progress, 0.4);
    assert.equal(task.progressMessage, "reading");
    await store.progress(running.id, running.fence, 7, null);
    task = await fetchTask(store, running.id);
    assert.equal(task.progress, 1);
    assert.equal(task.progressMessage, null);
    await store.progress(running.id, running.fence, -2, "back");
    assert.equal((await fetchTask(store, running.id)).progress, 0);
    await assert.rejects(store.progress(running.id, running.fence + 1, 0.5, "x"), LeaseLostError);
    assert.equal((await fetchTask(store, running.id)).progressMessage, "back");
  },

  "the next attempt starts with the progress of the one before cleared": async (store) => {
    await add(store);
    const first = await mustClaim(store, T0, { leaseMs: 1_000 });
    await store.progress(first.id, first.fence, 0.6, "halfway");
    await store.fail(first.id, first.fence, { message: "flaky", attempt: 1 }, T0 + 10, T0 + 1);
    await store.promoteDue(T0 + 10);
    const second = await mustClaim(store, T0 + 10);
    assert.equal(second.id, first.id);
    assert.equal(second.attempts, 2);
    assert.equal(second.progress, 0);
    assert.equal(second.progressMessage, null);
    assert.deepEqual(await store.getTask(first.id), second);
  },

  "after a lease is lost and the task re-claimed, the old holder is fenced off": async (store) => {
    await add(store);
    const first = await mustClaim(store, T0, { workerId: "old", leaseMs: 1_000 });
    await store.recoverStalled(T0 + 2_000);
    const second = await mustClaim(store, T0 + 2_000, { workerId: "new" });
    assert.equal(second.fence, first.fence + 1);
    assert.equal(second.attempts, 2);
    await assert.rejects(store.complete(first.id, first.fence, "late", T0 + 2_001), LeaseLostError);
    await assert.rejects(
      store.fail(first.id, first.fence, { message: "late", attempt: 1 }, null, T0 + 2_001),
      LeaseLostError,
    );
    await assert.rejects(store.progress(first.id, first.fence, 0.5, null), LeaseLostError);
    assert.equal(await store.renew(first.id, first.fence, 1_000, T0 + 2_001), false);
    const task = await fetchTask(store, first.id);
    assert.equal(task.state, "running");
    assert.equal(task.workerId, "new");
    assert.equal(task.fence, second.fence);
    assert.equal(task.result, null);
    const done = await store.complete(second.id, second.fence, "ok", T0 + 3_000);
    assert.equal(done.task.result, "ok");
  },
};
