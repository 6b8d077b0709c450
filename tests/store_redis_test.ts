/**
 * The Redis store: the shared conformance suite, plus what only a shared store
 * promises (two processes on one prefix never claim the same task; a worker
 * fenced out by a newer claim cannot complete).
 *
 * Needs Redis at `UN_REDIS_URL` (default `redis://127.0.0.1:6379`). Every store
 * gets its own key prefix (`un-test:<ulid>:`), removed afterwards. Without
 * Redis the tests are ignored, except when `CI=true`: then they fail.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { LeaseLostError, UnavailableError } from "../lib/errors.ts";
import { newId } from "../lib/events.ts";
import { RedisStore } from "../lib/store/redis.ts";
import type { Store } from "../lib/store/types.ts";
import type { Task } from "../lib/tasks.ts";
import { newTask, runStoreConformance, T0 } from "./store/conformance.ts";
import { cloudEvent } from "./store/conformance/helpers.ts";
import {
  COUNT_FIELD,
  decodeBroadcast,
  encodeEvents,
  EVENTS_FIELD,
  NEWEST_FIELD,
  TYPES_FIELD,
} from "../lib/bridge/wire.ts";
import { eventually } from "./helpers/http.ts";

const REDIS_URL = Deno.env.get("UN_REDIS_URL") ?? "redis://127.0.0.1:6379";
const IN_CI = Deno.env.get("CI") === "true";

/** Whether Redis answers; checked once, before any test is registered. */
async function redisAnswers(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
  });
  probe.on("error", () => {});
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

const reachable = await redisAnswers();
if (!reachable && IN_CI) {
  Deno.test(`redis store: Redis must be reachable at ${REDIS_URL} when CI=true`, () => {
    throw new Error(`Redis at ${REDIS_URL} is unreachable (CI=true requires it)`);
  });
}
/** Tests run only when Redis answers; the name says why when they are ignored. */
const ignore = !reachable;
const suffix = reachable ? "" : ` (ignored: no Redis at ${REDIS_URL})`;

/** Deletes every key under `prefix`. */
async function dropPrefix(prefix: string): Promise<void> {
  const admin = new Redis(REDIS_URL, { lazyConnect: true });
  admin.on("error", () => {});
  try {
    await admin.connect();
    let cursor = "0";
    do {
      const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await admin.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    await admin.quit().catch(() => admin.disconnect());
  }
}

const prefixes = new Map<Store, string>();

/** A store on a fresh prefix. */
async function openStore(prefix = `un-test:${newId()}:`): Promise<RedisStore> {
  const store = await RedisStore.open({ url: REDIS_URL, prefix });
  prefixes.set(store, prefix);
  return store;
}

/** Closes a store (again, if need be) and removes its keys. */
async function closeStore(store: Store): Promise<void> {
  await store.close();
  const prefix = prefixes.get(store);
  prefixes.delete(store);
  if (prefix !== undefined) await dropPrefix(prefix);
}

if (reachable) {
  runStoreConformance("redis", () => openStore(), closeStore);
} else {
  Deno.test({ name: `redis store: conformance suite${suffix}`, ignore: true, fn() {} });
}

Deno.test({
  name: `redis store: two stores on one prefix never claim the same task${suffix}`,
  ignore,
  async fn() {
    const prefix = `un-test:${newId()}:`;
    const first = await openStore(prefix);
    const second = await RedisStore.open({ url: REDIS_URL, prefix });
    try {
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
    } finally {
      await second.close();
      await closeStore(first);
    }
  },
});

Deno.test({
  name: `redis store: a worker fenced out by a newer claim cannot complete${suffix}`,
  ignore,
  async fn() {
    const prefix = `un-test:${newId()}:`;
    const first = await openStore(prefix);
    const second = await RedisStore.open({ url: REDIS_URL, prefix });
    try {
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
    } finally {
      await second.close();
      await closeStore(first);
    }
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
    const prefix = `un-test:${newId()}:`;
    const first = await openStore(prefix);
    const second = await RedisStore.open({ url: REDIS_URL, prefix });
    try {
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
    } finally {
      await second.close();
      await closeStore(first);
    }
  },
});

Deno.test({
  name:
    `redis store: retention removes whole batches, over as many calls as the batches' size needs${suffix}`,
  ignore,
  async fn() {
    const store = await openStore();
    try {
      // 60 batches of 100 events, ~1.6 MB: more than one trim call reads.
      const batches = Array.from(
        { length: 60 },
        (_, b) =>
          Array.from(
            { length: 100 },
            (_, i) => cloudEvent("x.big", T0 + b, { b, i, pad: "p".repeat(40) }),
          ),
      );
      for (const batch of batches) await store.appendEvents(batch);
      const policy = {
        maxFinishedTasks: 1e6,
        finishedTaskMaxAgeMs: 1e12,
        resultTtlMs: 1e12,
        maxEvents: 1_050,
        eventMaxAgeMs: 1e12,
      };
      // At least 1 050 stay, so the newest 11 batches: 49 go whole.
      assert.deepEqual(await store.trim(policy, T0 + 100), { tasks: 0, events: 4_900, results: 0 });
      const left = await store.eventHistory({ limit: 10_000 });
      assert.equal(left.length, 1_100);
      assert.deepEqual(left[0].data, { b: 49, i: 0, pad: "p".repeat(40) });
      // By age: the batches whose newest event is older than the cutoff.
      const byAge = await store.trim({ ...policy, maxEvents: 1e6, eventMaxAgeMs: 45 }, T0 + 100);
      assert.equal(byAge.events, 600);
      assert.equal((await store.eventHistory({ limit: 10_000 })).length, 500);
    } finally {
      await closeStore(store);
    }
  },
});

Deno.test({
  name:
    `redis store: an appended batch reaches the bridge as one stream entry and one message per run of a type${suffix}`,
  ignore,
  async fn() {
    const prefix = `un-test:${newId()}:`;
    const store = await RedisStore.open({
      url: REDIS_URL,
      prefix,
      bridge: true,
    });
    prefixes.set(store, prefix);
    const listener = new Redis(REDIS_URL);
    const messages: [string, string][] = [];
    listener.on("pmessage", (_p: string, channel: string, message: string) => {
      messages.push([channel, message]);
    });
    try {
      await listener.psubscribe(`${prefix}events:*`);
      const events = [
        cloudEvent("file.created"),
        cloudEvent("file.created"),
        cloudEvent("task.queued"),
        cloudEvent("file.created"),
      ];
      await store.appendEvents(events);
      await eventually(() => Promise.resolve(messages.length >= 3), 5_000, "three messages");
      await new Promise((r) => setTimeout(r, 100));
      const admin = new Redis(REDIS_URL);
      try {
        const entries = await admin.xrange(`${prefix}events:stream`, "-", "+");
        assert.equal(entries.length, 1, "one entry for the batch");
        const fields = entries[0][1];
        assert.deepEqual(fields, [
          TYPES_FIELD,
          "file.created\ntask.queued",
          EVENTS_FIELD,
          encodeEvents(events),
          COUNT_FIELD,
          "4",
          NEWEST_FIELD,
          String(Math.max(...events.map((e) => Date.parse(e.time)))),
        ]);
        const groups = await admin.xinfo("GROUPS", `${prefix}events:stream`) as unknown[][];
        assert.equal(groups.length, 1, "the hooks group was made with the stream");
      } finally {
        admin.disconnect();
      }
      assert.deepEqual(messages.map(([channel]) => channel), [
        `${prefix}events:file.created`,
        `${prefix}events:task.queued`,
        `${prefix}events:file.created`,
      ]);
      assert.deepEqual(messages.map(([, m]) => decodeBroadcast(m).map((e) => e.id)), [
        [events[0].id, events[1].id],
        [events[2].id],
        [events[3].id],
      ]);
      // A retried write (a reply lost): history gives each event once.
      await store.appendEvents(events);
      assert.deepEqual(
        (await store.eventHistory({ limit: 10 })).map((e) => e.id),
        events.map((e) => e.id),
      );
    } finally {
      listener.disconnect();
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
        /already exists/,
      );
    } finally {
      await closeStore(store);
    }
  },
});
