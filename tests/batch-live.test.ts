/**
 * A batch's live count on Redis (bh:<id> field lv) is a shortcut, never the
 * last word: a count that went wrong (too low or too high) is mended by the
 * settle that reads the tasks, a batch made before the count was kept is
 * settled by reading its tasks, and a task of no batch carries no batch
 * field. And `ctx.waitForChildren` polls the cheap count, reading the whole
 * batch (one read per child) only now and then while children run, on both
 * stores.
 *
 * Needs Redis (tests/helpers/redis-store.ts) for the Redis part.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { newId } from "../lib/events/cloud-event.ts";
import type { RedisStore } from "../lib/store/redis/store.ts";
import { SqliteStore } from "../lib/store/sqlite/store.ts";
import type { TaskStore } from "../lib/store/types.ts";
import { waitForChildren } from "../lib/tasks/children.ts";
import { mustClaim, newTask, T0 } from "./store/conformance/helpers.ts";
import { closeStore, openStore, REDIS_URL, redisForTests } from "./helpers/redis-store.ts";

const { ignore, suffix } = await redisForTests("batch live count");

/** A store on a fresh prefix and an admin connection to poke its keys; both go on dispose. */
async function redisStore(): Promise<
  { store: RedisStore; admin: Redis; prefix: string } & AsyncDisposable
> {
  const prefix = `un-test:${newId()}:`;
  const store = await openStore(prefix);
  const admin = new Redis(REDIS_URL);
  return {
    store,
    admin,
    prefix,
    async [Symbol.asyncDispose]() {
      await admin.quit();
      await closeStore(store);
    },
  };
}

async function batchOf(store: TaskStore, n: number) {
  const batchId = newId();
  const queue = `q-${batchId}`;
  const results = await store.enqueueMany(
    Array.from({ length: n }, () => newTask({ queue, batchId })),
    T0,
    { newBatch: true },
  );
  return { batchId, queue, ids: results.map((r) => r.task.id) };
}

Deno.test({
  name: `batch live count: a count too high holds the batch until a recount mends it${suffix}`,
  ignore,
  async fn() {
    await using r = await redisStore();
    const { batchId, ids } = await batchOf(r.store, 2);
    for (const id of ids) await r.store.cancel(id, T0 + 1);
    assert.equal(await r.admin.hget(`${r.prefix}bh:${batchId}`, "lv"), "0");
    // As if a process of an older version had ended a task without counting it.
    await r.admin.hset(`${r.prefix}bh:${batchId}`, "lv", "1");
    assert.equal(await r.store.settleBatch(batchId, T0 + 2), null, "the count says one is live");
    const settled = await r.store.settleBatch(batchId, T0 + 3, { recount: true });
    assert.deepEqual(settled?.counts, { cancelled: 2 });
    assert.equal(await r.admin.hget(`${r.prefix}bh:${batchId}`, "lv"), "0");
  },
});

Deno.test({
  name: `batch live count: a count too low is mended by the settle that reads the tasks${suffix}`,
  ignore,
  async fn() {
    await using r = await redisStore();
    const { batchId, queue } = await batchOf(r.store, 3);
    await r.admin.hset(`${r.prefix}bh:${batchId}`, "lv", "0");
    assert.equal(await r.store.settleBatch(batchId, T0 + 1), null, "its tasks are live");
    assert.equal((await r.store.batchPulse(batchId))?.live, 3, "mended");
    for (let i = 0; i < 3; i++) {
      const running = await mustClaim(r.store, T0 + 2, { queues: [queue] });
      await r.store.complete(running.id, running.fence, null, T0 + 2);
    }
    assert.deepEqual((await r.store.settleBatch(batchId, T0 + 3))?.counts, { succeeded: 3 });
  },
});

Deno.test({
  name: `batch live count: a batch without one is settled by reading its tasks${suffix}`,
  ignore,
  async fn() {
    await using r = await redisStore();
    const { batchId, ids } = await batchOf(r.store, 2);
    await r.admin.hdel(`${r.prefix}bh:${batchId}`, "lv");
    assert.equal((await r.store.batchPulse(batchId))?.live, null);
    await r.store.cancel(ids[0], T0 + 1);
    assert.equal(await r.store.settleBatch(batchId, T0 + 1), null);
    await r.store.cancel(ids[1], T0 + 2);
    assert.notEqual(await r.store.settleBatch(batchId, T0 + 2), null);
    assert.equal(await r.admin.hexists(`${r.prefix}bh:${batchId}`, "lv"), 0, "none is made");
  },
});

Deno.test({
  name: `batch live count: only a batch's tasks carry the batch field${suffix}`,
  ignore,
  async fn() {
    await using r = await redisStore();
    const { batchId, ids } = await batchOf(r.store, 1);
    const plain = newTask();
    await r.store.enqueue(plain, T0);
    assert.equal(await r.admin.hget(`${r.prefix}t:${ids[0]}`, "b"), batchId);
    assert.equal(await r.admin.hexists(`${r.prefix}t:${plain.id}`, "b"), 0);
  },
});

/**
 * A parent waits for 50 children that do not end for a while, then all end at once:
 * the wait polls batchPulse and reads the whole batch once until then (so
 * the reads do not grow with the polls), and once more to see it done.
 */
async function waitReadsRarely(store: TaskStore): Promise<void> {
  const parentId = newId();
  const queue = `wait-${parentId}`;
  const children = Array.from(
    { length: 50 },
    () => newTask({ queue, parentId, batchId: parentId }),
  );
  await store.enqueueMany(children, T0);
  const calls = { pulse: 0, read: 0 };
  const counted = {
    batchPulse: (id: string) => (calls.pulse++, store.batchPulse(id)),
    getBatch: (id: string) => (calls.read++, store.getBatch(id)),
    batchTasks: (id: string, limit?: number) => store.batchTasks(id, limit),
    settleBatch: (id: string, now: number) => store.settleBatch(id, now),
  };
  const parent = newTask({ id: parentId });
  const shown: number[] = [];
  const waiting = waitForChildren(
    { task: { ...parent, state: "running" } as never, store: counted, emit() {}, now: Date.now },
    (fraction) => Promise.resolve(void shown.push(fraction)),
    new AbortController().signal,
    { pollMs: 5 },
  );
  while (calls.pulse < 30) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(calls.read, 1, `one read in ${calls.pulse} polls while no child ended`);
  await store.changeTasks({ action: "cancel", ids: children.map((c) => c.id) }, T0 + 1);
  const outcomes = await waiting;
  assert.equal(outcomes.length, 50);
  assert.ok(outcomes.every((o) => o.state === "cancelled"));
  assert.equal(calls.read, 2, "and one more to see them all ended");
  assert.deepEqual(shown, [0, 1]);
}

Deno.test("waitForChildren polls the live count, not every child (embedded)", async () => {
  const dir = await Deno.makeTempDir();
  const store = SqliteStore.open(dir);
  try {
    await waitReadsRarely(store);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: `waitForChildren polls the live count, not every child (Redis)${suffix}`,
  ignore,
  async fn() {
    await using r = await redisStore();
    await waitReadsRarely(r.store);
  },
});
