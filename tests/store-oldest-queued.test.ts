/**
 * `Store.oldestQueuedAt` (`un_queue_oldest_age_seconds`) on both stores: the
 * oldest queued task of each queue even when a newer one of higher priority
 * is at the head, nothing for a queue with none queued, and running or
 * scheduled tasks do not count. Without Redis the Redis case is ignored,
 * except under CI=true, where it fails.
 */

import assert from "node:assert/strict";
import { SqliteStore } from "../lib/store/sqlite/store.ts";
import type { Store } from "../lib/store/types.ts";
import { closeStore, openStore, redisForTests } from "./helpers/redis-store.ts";
import { newTask, T0 } from "./store/conformance.ts";

/** A priority level is worth this much waiting (the default priorityStepMs). */
const STEP = 60_000;

async function oldestCases(store: Store): Promise<void> {
  assert.ok(store.oldestQueuedAt, `${store.kind} store reads the oldest queued task`);
  // Enqueued first at priority 0, then a newer one at 9 that runs before it.
  await store.enqueue(newTask({ queue: "mail", priority: 0, sortKey: T0 }), T0);
  const later = T0 + 100_000;
  await store.enqueue(newTask({ queue: "mail", priority: 9, sortKey: later - 9 * STEP }), later);
  await store.enqueue(newTask({ queue: "mail", priority: 5, sortKey: later + 5 }), later + 5);
  // Another queue: its only queued task is the oldest; its running one does not count.
  await store.enqueue(newTask({ queue: "web", sortKey: T0 - 50 }), T0 - 50);
  const claimed = await store.claim({
    workerId: "w1",
    queues: ["web"],
    leaseMs: 30_000,
    now: T0 + 1,
  });
  assert.ok(claimed);
  await store.enqueue(newTask({ queue: "web", sortKey: T0 + 10 }), T0 + 10);
  // Scheduled for later: not queued.
  await store.enqueue(
    newTask({ queue: "later", sortKey: T0, runAt: T0 + 3_600_000 }),
    T0,
  );
  const oldest = await store.oldestQueuedAt(["mail", "web", "later", "nothing"]);
  assert.deepEqual(oldest, { mail: T0, web: T0 + 10 });
  assert.deepEqual(await store.oldestQueuedAt([]), {});
}

Deno.test("sqlite store: oldestQueuedAt finds each queue's oldest queued task", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-oldest-" });
  const store = SqliteStore.open(dir);
  try {
    await oldestCases(store);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

const redis = await redisForTests("redis store: oldestQueuedAt");
Deno.test({
  name: `redis store: oldestQueuedAt finds each queue's oldest queued task${redis.suffix}`,
  ignore: redis.ignore,
  fn: async () => {
    const store = await openStore();
    try {
      await oldestCases(store);
    } finally {
      await closeStore(store);
    }
  },
});
