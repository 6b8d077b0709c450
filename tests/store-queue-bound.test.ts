/**
 * Bounded queues at the store (`enqueue`/`enqueueMany` with `maxSize`) on
 * both stores: queued, scheduled and retrying tasks count and running ones do
 * not; a step past the bound creates nothing and throws QueueFullError with the
 * queue's size; a deduplicated create and other queues are not refused; the
 * fast path (plain tasks) and the general one (keys) both check. Without Redis
 * the Redis case is ignored, except under CI=true, where it fails.
 */

import assert from "node:assert/strict";
import { QueueFullError } from "../lib/errors.ts";
import { SqliteStore } from "../lib/store/sqlite/store.ts";
import type { Store } from "../lib/store/types.ts";
import { closeStore, openStore, redisForTests } from "./helpers/redis-store.ts";
import { newTask, T0 } from "./store/conformance.ts";

const BOUND = { maxSize: { mail: 3 } };

function isFull(size: number) {
  return (error: unknown) => {
    assert.ok(error instanceof QueueFullError, String(error));
    assert.equal(error.status, 429);
    assert.deepEqual(error.details, { queue: "mail", size, maxSize: 3 });
    return true;
  };
}

async function boundCases(store: Store): Promise<void> {
  await store.enqueue(newTask({ queue: "mail" }), T0, BOUND);
  await store.enqueue(newTask({ queue: "mail", runAt: T0 + 60_000 }), T0, BOUND);
  await store.enqueue(newTask({ queue: "mail", key: "k1" }), T0, BOUND);
  // Full: plain and keyed creates are refused, a batch writes nothing.
  await assert.rejects(store.enqueue(newTask({ queue: "mail" }), T0, BOUND), isFull(3));
  await assert.rejects(store.enqueue(newTask({ queue: "mail", key: "k2" }), T0, BOUND), isFull(3));
  await assert.rejects(
    store.enqueueMany([newTask({ queue: "web" }), newTask({ queue: "mail" })], T0, BOUND),
    isFull(3),
  );
  assert.equal(
    (await store.listTasks({ queue: "web" })).length,
    0,
    "the refused batch wrote nothing",
  );
  // The live task holding the key comes back: nothing is created, nothing refused.
  const again = await store.enqueue(newTask({ queue: "mail", key: "k1" }), T0, BOUND);
  assert.equal(again.deduplicated, true);
  // Other queues and unbounded creates are not held back.
  await store.enqueue(newTask({ queue: "web" }), T0, BOUND);
  await store.enqueue(newTask({ queue: "mail" }), T0);
  // A running task does not count: claim two of the four, then two fit again.
  for (let i = 0; i < 2; i++) {
    assert.ok(await store.claim({ workerId: "w", queues: ["mail"], leaseMs: 30_000, now: T0 + 1 }));
  }
  await store.enqueueMany([newTask({ queue: "mail" })], T0 + 2, BOUND);
  await assert.rejects(
    store.enqueueMany([newTask({ queue: "mail" }), newTask({ queue: "mail" })], T0 + 2, BOUND),
    isFull(3),
  );
}

Deno.test("sqlite store: a bounded queue refuses a create past maxSize", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-bound-" });
  const store = SqliteStore.open(dir);
  try {
    await boundCases(store);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

const redis = await redisForTests("redis store: bounded queues");
Deno.test({
  name: `redis store: a bounded queue refuses a create past maxSize${redis.suffix}`,
  ignore: redis.ignore,
  fn: async () => {
    const store = await openStore();
    try {
      await boundCases(store);
    } finally {
      await closeStore(store);
    }
  },
});
