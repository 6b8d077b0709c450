/**
 * Conformance: paused queues and rate limits, both checked inside the claim.
 */

import assert from "node:assert/strict";
import { add, claimNext, mustClaim, type StoreCase, T0 } from "./helpers.ts";

/** Cases of `setQueuePaused`, `pausedQueues`, `setRateLimits` and `rateLimitUsage`. */
export const queueControlCases: Record<string, StoreCase> = {
  "a paused queue is not claimed from, others are; after resume it is": async (store) => {
    const mail = await add(store, { queue: "mail", sortKey: T0 - 10 });
    const other = await add(store, { queue: "other" });
    assert.equal(await store.setQueuePaused("mail", true), true);
    assert.equal(await store.setQueuePaused("mail", true), false, "already paused");
    assert.deepEqual(await store.pausedQueues(), ["mail"]);
    assert.equal((await mustClaim(store)).id, other.id);
    assert.equal(await claimNext(store), null);
    assert.equal(await claimNext(store, T0, { queues: ["mail"] }), null);
    assert.equal(await store.setQueuePaused("mail", false), true);
    assert.deepEqual(await store.pausedQueues(), []);
    assert.equal((await mustClaim(store, T0, { queues: ["mail"] })).id, mail.id);
  },

  "a queue can be paused before it has ever had a task": async (store) => {
    await store.setQueuePaused("later", true);
    await add(store, { queue: "later" });
    assert.equal(await claimNext(store), null);
    await store.setQueuePaused("later", false);
    assert.notEqual(await claimNext(store), null);
  },

  "a running task of a paused queue still finishes": async (store) => {
    await add(store, { queue: "mail" });
    const running = await mustClaim(store);
    await store.setQueuePaused("mail", true);
    const done = await store.complete(running.id, running.fence, "ok", T0 + 1);
    assert.equal(done.task.state, "succeeded");
    await store.setQueuePaused("mail", false);
  },

  "a rate limit starts at most max tasks per window; the next window starts more": async (
    store,
  ) => {
    await store.setRateLimits({ mail: { max: 2, perMs: 1_000 } });
    for (let i = 0; i < 5; i++) await add(store, { queue: "mail", sortKey: T0 + i });
    const free = await add(store, { queue: "other", sortKey: T0 + 100 });
    const now = T0 + 5_000_000; // the start of a window (T0 is a whole second)
    assert.notEqual(await claimNext(store, now), null);
    assert.notEqual(await claimNext(store, now + 10), null);
    // The queue is full for this window: the other queue's task is claimed instead.
    assert.equal((await mustClaim(store, now + 20)).id, free.id);
    assert.equal(await claimNext(store, now + 999), null);
    assert.deepEqual(await store.rateLimitUsage(now + 999), {
      mail: { max: 2, perMs: 1_000, count: 2, until: now + 1_000 },
    });
    assert.notEqual(await claimNext(store, now + 1_000), null);
    assert.notEqual(await claimNext(store, now + 1_001), null);
    assert.equal(await claimNext(store, now + 1_002), null);
    await store.setRateLimits({});
    assert.notEqual(await claimNext(store, now + 1_003), null);
    assert.deepEqual(await store.rateLimitUsage(now), {});
  },

  "a limit by group key: a full group is skipped, other groups of the queue still start": async (
    store,
  ) => {
    await store.setRateLimits({ ci: { max: 1, perMs: 1_000, by: "{payload.repo}" } });
    const a1 = await add(store, { queue: "ci", payload: { repo: "a" }, sortKey: T0 });
    const a2 = await add(store, { queue: "ci", payload: { repo: "a" }, sortKey: T0 + 1 });
    const a3 = await add(store, { queue: "ci", payload: { repo: "a" }, sortKey: T0 + 2 });
    const b1 = await add(store, { queue: "ci", payload: { repo: "b" }, sortKey: T0 + 3 });
    const b2 = await add(store, { queue: "ci", payload: { repo: "b" }, sortKey: T0 + 4 });
    const none = await add(store, { queue: "ci", payload: {}, sortKey: T0 + 5 });
    assert.equal(a1.rateGroup, "a", "rendered at enqueue, stored with the task");
    assert.equal((await store.getTask(b1.id))?.rateGroup, "b");
    assert.equal(none.rateGroup, "", "a missing field renders empty, as in hook templates");
    const now = T0 + 7_000_000;
    // a's window is full after a1: the claims behind it take b1 and the empty group.
    assert.equal((await mustClaim(store, now, { queues: ["ci"] })).id, a1.id);
    assert.equal((await mustClaim(store, now + 1, { queues: ["ci"] })).id, b1.id);
    assert.equal((await mustClaim(store, now + 2)).id, none.id);
    assert.equal(await claimNext(store, now + 3), null);
    assert.deepEqual(await store.rateLimitUsage(now + 3), {
      ci: { max: 1, perMs: 1_000, by: "{payload.repo}", count: 3, until: now + 1_000 },
    });
    // Asked for one group, the usage is that group's own window (null: the group "").
    for (const [group, count] of [["a", 1], ["c", 0], [null, 1]] as const) {
      assert.equal((await store.rateLimitUsage(now + 3, group)).ci.count, count, String(group));
    }
    // The next window: one of each group again, in claim order.
    const next = [await mustClaim(store, now + 1_000), await mustClaim(store, now + 1_001)];
    assert.deepEqual(next.map((task) => task.id), [a2.id, b2.id]);
    assert.equal(await claimNext(store, now + 1_002), null);
    assert.equal((await mustClaim(store, now + 2_000)).id, a3.id);
    await store.setRateLimits({});
  },

  "a limit by group key holds within one burst": async (store) => {
    await store.setRateLimits({ ci: { max: 2, perMs: 60_000, by: "{payload.repo}" } });
    for (let i = 0; i < 6; i++) {
      await add(store, { queue: "ci", payload: { repo: i % 2 ? "a" : "b" }, sortKey: T0 + i });
    }
    const burst = await Promise.all(
      Array.from({ length: 6 }, (_, i) => claimNext(store, T0 + 8_000_000, { workerId: `w${i}` })),
    );
    const started = burst.flatMap((task) => task === null ? [] : [task.rateGroup]);
    assert.deepEqual(started.sort(), ["a", "a", "b", "b"]);
    await store.setRateLimits({});
  },

  "a queue without a limit by group stores no group": async (store) => {
    await store.setRateLimits({ mail: { max: 5, perMs: 1_000 } });
    const task = await add(store, { queue: "mail", payload: { repo: "a" } });
    assert.equal("rateGroup" in task, false);
    assert.equal("rateGroup" in (await store.getTask(task.id))!, false);
    await store.setRateLimits({});
  },

  "the claims of one burst share the limit": async (store) => {
    await store.setRateLimits({ mail: { max: 3, perMs: 60_000 } });
    for (let i = 0; i < 10; i++) await add(store, { queue: "mail", sortKey: T0 + i });
    const now = T0 + 6_000_000;
    const burst = await Promise.all(
      Array.from({ length: 8 }, (_, i) => claimNext(store, now, { workerId: `w${i}` })),
    );
    assert.equal(burst.filter((task) => task !== null).length, 3);
    await store.setRateLimits({});
  },
};
