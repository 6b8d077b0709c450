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
