/**
 * The Redis store: the shared conformance suite, plus what only a shared store
 * promises (two processes on one prefix never claim the same task; a worker
 * fenced out by a newer claim cannot complete).
 *
 * Needs Redis (tests/helpers/redis-store.ts). The event log's side is in
 * store-redis-events.test.ts.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { ConflictError, LeaseLostError, UnavailableError } from "../lib/errors.ts";
import { newId } from "../lib/events/cloud-event.ts";
import { RedisStore } from "../lib/store/redis/store.ts";
import type { Task } from "../lib/tasks/task.ts";
import { newTask, runStoreConformance, T0 } from "./store/conformance.ts";
import {
  closeStore,
  openSharedStores,
  openStore,
  REDIS_URL,
  redisForTests,
} from "./helpers/redis-store.ts";

const { ignore, suffix } = await redisForTests("redis store");

if (!ignore) {
  runStoreConformance("redis", () => openStore(), closeStore);
} else {
  Deno.test({ name: `redis store: conformance suite${suffix}`, ignore: true, fn() {} });
}

Deno.test({
  name: `redis store: two stores on one prefix never claim the same task${suffix}`,
  ignore,
  async fn() {
    await using stores = await openSharedStores();
    const { first, second } = stores;
    const total = 400;
    for (let i = 0; i < total; i += 100) {
      const batch = Array.from({ length: 100 }, (_, j) => newTask({ sortKey: T0 + i + j }));
      await first.enqueueMany(batch, T0);
    }
    // Eight claim loops per "process", all at once.
    const claimed: Task[] = [];
    const loop = async (store: RedisStore, workerId: string) => {
      for (;;) {
        const task = await store.claim({ workerId, queues: null, leaseMs: 60_000, now: T0 });
        if (task === null) return;
        claimed.push(task);
      }
    };
    await Promise.all(
      [first, second].flatMap((store, s) =>
        Array.from({ length: 8 }, (_, w) => loop(store, `p${s}-w${w}`))
      ),
    );
    assert.equal(claimed.length, total);
    assert.equal(new Set(claimed.map((t) => t.id)).size, total, "each task claimed once");
    assert.ok(claimed.every((t) => t.fence === 1 && t.attempts === 1));
    const byProcess = new Set(claimed.map((t) => t.workerId?.slice(0, 2)));
    assert.deepEqual([...byProcess].sort(), ["p0", "p1"], "both processes got work");
    assert.equal((await first.queueCounts()).default.running, total);
  },
});

Deno.test({
  name: `redis store: a worker fenced out by a newer claim cannot complete${suffix}`,
  ignore,
  async fn() {
    await using stores = await openSharedStores();
    const { first, second } = stores;
    const { task } = await first.enqueue(newTask(), T0);
    const stale = await first.claim({ workerId: "a", queues: null, leaseMs: 1_000, now: T0 });
    assert.equal(stale?.id, task.id);
    // The lease runs out; the other process recovers the task and claims it again.
    await second.recoverStalled(T0 + 5_000);
    const fresh = await second.claim({
      workerId: "b",
      queues: null,
      leaseMs: 1_000,
      now: T0 + 5_000,
    });
    assert.equal(fresh?.fence, 2);
    await assert.rejects(
      first.complete(task.id, stale!.fence, "late", T0 + 6_000),
      LeaseLostError,
    );
    await assert.rejects(
      first.progress(task.id, stale!.fence, 0.5, "still here?"),
      LeaseLostError,
    );
    assert.equal(await first.renew(task.id, stale!.fence, 1_000, T0 + 6_000), false);
    const done = await second.complete(task.id, fresh!.fence, "ok", T0 + 6_000);
    assert.equal(done.task.state, "succeeded");
    assert.equal(done.task.workerId, "b");
    assert.equal((await first.getTask(task.id))?.result, "ok");
  },
});

Deno.test({
  name: `redis store: completes made at once are batched but fail one by one${suffix}`,
  ignore,
  async fn() {
    const store = await openStore();
    try {
      await store.enqueueMany([newTask(), newTask(), newTask()], T0);
      const claimed = await Promise.all(
        [1, 2, 3].map((n) =>
          store.claim({ workerId: `w${n}`, queues: ["default"], leaseMs: 1_000, now: T0 })
        ),
      );
      assert.equal(new Set(claimed.map((t) => t?.id)).size, 3);
      const [a, b, c] = claimed as Task[];
      const outcomes = await Promise.allSettled([
        store.complete(a.id, a.fence, 1, T0),
        store.complete(b.id, b.fence + 1, 2, T0),
        store.complete(c.id, c.fence, 3, T0),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status), ["fulfilled", "rejected", "fulfilled"]);
      assert.ok((outcomes[1] as PromiseRejectedResult).reason instanceof LeaseLostError);
      assert.equal((await store.getTask(b.id))?.state, "running");
      assert.equal((await store.getTask(c.id))?.result, 3);
    } finally {
      await closeStore(store);
    }
  },
});

Deno.test({
  name: `redis store: keys stay under the prefix and trim removes finished tasks${suffix}`,
  ignore,
  async fn() {
    const prefix = `un-test:${newId()}:`;
    const store = await openStore(prefix);
    const admin = new Redis(REDIS_URL);
    try {
      const { task } = await store.enqueue(newTask({ key: "k" }), T0);
      const running = await store.claim({ workerId: "w", queues: null, leaseMs: 1_000, now: T0 });
      await store.complete(task.id, running!.fence, { big: "x".repeat(100) }, T0);
      const keys = await admin.keys(`${prefix}*`);
      assert.ok(keys.length > 0);
      assert.ok(keys.every((k) => k.startsWith(prefix)));
      const policy = {
        maxFinishedTasks: 0,
        finishedTaskMaxAgeMs: 1e9,
        resultTtlMs: 1e9,
        maxEvents: 10,
        eventMaxAgeMs: 1e9,
      };
      assert.deepEqual(await store.trim(policy, T0 + 1), { tasks: 1, events: 0, results: 0 });
      assert.equal(await admin.exists(`${prefix}t:${task.id}`), 0);
      assert.equal(await store.getTask(task.id), null);
    } finally {
      await admin.quit();
      await closeStore(store);
    }
  },
});

Deno.test("redis store: opening an unreachable Redis is UnavailableError and leaves nothing behind", async () => {
  await assert.rejects(
    RedisStore.open({ url: "redis://127.0.0.1:1", prefix: "un-test:" }),
    UnavailableError,
  );
});

Deno.test({
  name: `redis store: a task claimed by one process is completed whole by another${suffix}`,
  ignore,
  async fn() {
    await using stores = await openSharedStores();
    const { first, second } = stores;
    await first.enqueue(newTask({ key: "shared", payload: { deep: [1, { two: 2 }] } }), T0);
    const running = await first.claim({ workerId: "a", queues: null, leaseMs: 1_000, now: T0 });
    assert.ok(running);
    await first.progress(running.id, running.fence, 0.4, "almost");
    // The same completion from the claiming process and from another one.
    const fromOther = await second.complete(running.id, running.fence, [1], T0 + 1);
    assert.deepEqual(fromOther.task, await first.getTask(running.id));
    assert.equal(fromOther.task.progressMessage, "almost");
    assert.deepEqual(fromOther.task.payload, { deep: [1, { two: 2 }] });
    await first.enqueue(newTask(), T0);
    const mine = await first.claim({ workerId: "a", queues: null, leaseMs: 1_000, now: T0 });
    const fromSelf = await first.complete(mine!.id, mine!.fence, null, T0 + 2);
    assert.deepEqual(fromSelf.task, await second.getTask(mine!.id));
  },
});

Deno.test({
  name:
    `redis store: a batch of plain tasks resent after a lost reply is not written twice${suffix}`,
  ignore,
  async fn() {
    const store = await openStore();
    try {
      // No keys, dependencies or limits: the enqueue script's fast path.
      const batch = [newTask({ payload: { n: 1 } }), newTask({ runAt: T0 + 60_000 })];
      const first = await store.enqueueMany(batch, T0);
      assert.deepEqual(first.map((r) => r.task.state), ["queued", "scheduled"]);
      await store.claim({ workerId: "w1", queues: null, leaseMs: 60_000, now: T0 });
      const again = await store.enqueueMany(batch, T0);
      assert.deepEqual(again.map((r) => r.task.id), first.map((r) => r.task.id));
      assert.deepEqual(again.map((r) => r.task.state), ["running", "scheduled"], "as they are now");
      const counts = (await store.queueCounts()).default;
      assert.deepEqual([counts.queued, counts.running, counts.scheduled], [0, 1, 1]);
    } finally {
      await closeStore(store);
    }
  },
});

Deno.test({
  name:
    `redis store: an enqueue resent after a lost reply gets its tasks back; a new task with a taken id is refused${suffix}`,
  ignore,
  async fn() {
    const store = await openStore();
    try {
      const batch = [
        newTask({ payload: { n: 1 } }),
        newTask({ key: "k1" }),
        newTask({ key: "k1" }),
      ];
      const first = await store.enqueueMany(batch, T0);
      assert.deepEqual(first.map((r) => r.deduplicated), [false, false, true]);
      await store.claim({ workerId: "w1", queues: null, leaseMs: 60_000, now: T0 });
      // The very same command again, as ioredis sends it when the first reply was lost.
      const again = await store.enqueueMany(batch, T0);
      assert.deepEqual(again.map((r) => r.task.id), first.map((r) => r.task.id));
      assert.deepEqual(again.map((r) => r.deduplicated), [false, false, true]);
      assert.equal(again[0].task.state, "running", "the task as it is now");
      assert.equal((await store.queueCounts()).default.queued, 1, "nothing was written twice");
      await assert.rejects(
        () => store.enqueue({ ...newTask({ payload: { n: 2 } }), id: batch[0].id }, T0),
        (error) => error instanceof ConflictError && /already exists/.test(error.message),
      );
    } finally {
      await closeStore(store);
    }
  },
});
