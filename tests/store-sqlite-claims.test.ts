/**
 * The embedded store's claims of a burst (lib/store/sqlite/claims.ts): they
 * run together at the commit, after every write issued before it, each takes
 * the best task left as if it ran alone, and what they and the finish of a
 * claimed task return (made without reading the row back, the successes of a
 * burst recorded together) is exactly what a later read returns.
 */

import assert from "node:assert/strict";
import { ResourceLedger } from "../lib/tasks/resources.ts";
import { SqliteStore } from "../lib/store/sqlite/store.ts";
import type { Task } from "../lib/tasks/task.ts";
import { add, newTask, T0 } from "./store/conformance.ts";
import { withSqliteStore } from "./helpers/sqlite-store.ts";

function claim(store: SqliteStore, workerId: string, extra: object = {}): Promise<Task | null> {
  return store.claim({ workerId, queues: null, leaseMs: 30_000, now: T0 + 1_000, ...extra });
}

Deno.test("a burst of claims takes distinct tasks in claim order, each as a read returns it", async () => {
  await withSqliteStore(async (store) => {
    const tasks: Task[] = [];
    for (let i = 0; i < 20; i++) {
      tasks.push(await add(store, { sortKey: T0 + (i * 7) % 20, payload: { i }, key: `k${i}` }));
    }
    const expected = [...tasks].sort((a, b) => a.sortKey - b.sortKey || (a.id < b.id ? -1 : 1));
    const claimed = await Promise.all(
      Array.from({ length: 16 }, (_, w) => claim(store, `w${w}`)),
    );
    assert.deepEqual(claimed.map((t) => t?.id), expected.slice(0, 16).map((t) => t.id));
    for (const task of claimed) assert.deepEqual(task, await store.getTask(task!.id));
    assert.equal(claimed[3]!.workerId, "w3");
    assert.equal(claimed[3]!.state, "running");
    assert.equal(claimed[3]!.attempts, 1);
    // The rest, then nothing.
    const rest = await Promise.all(Array.from({ length: 6 }, (_, w) => claim(store, `x${w}`)));
    assert.deepEqual(rest.slice(0, 4).map((t) => t?.id), expected.slice(16).map((t) => t.id));
    assert.deepEqual(rest.slice(4), [null, null]);
  });
});

Deno.test("a claim sees what was written before its commit, and a finish needs no read-back", async () => {
  await withSqliteStore(async (store) => {
    // Issued first, but it runs at the commit: the enqueue of the same burst is there.
    const claiming = claim(store, "w1");
    const enqueued = store.enqueue(newTask({ payload: { hello: "world" } }), T0);
    const task = await claiming;
    assert.equal(task?.id, (await enqueued).task.id);
    await store.progress(task!.id, task!.fence, 0.5, "half way");
    const { task: done } = await store.complete(task!.id, task!.fence, { ok: [1, 2] }, T0 + 2_000);
    assert.deepEqual(done, await store.getTask(task!.id));
    assert.equal(done.progressMessage, "half way");
    assert.deepEqual(done.result, { ok: [1, 2] });

    // A retried task's second attempt keeps its first error, as stored.
    const flaky = await add(store, { payload: null });
    const first = (await claim(store, "w2"))!;
    assert.equal(first.id, flaky.id);
    await store.fail(first.id, first.fence, { message: "boom", attempt: 1 }, T0, T0);
    await store.promoteDue(T0 + 10);
    const second = (await claim(store, "w2", { now: T0 + 20 }))!;
    assert.equal(second.attempts, 2);
    assert.deepEqual(second, await store.getTask(second.id));
    const { task: ok } = await store.complete(second.id, second.fence, null, T0 + 30);
    assert.deepEqual(ok, await store.getTask(second.id));
  });
});

Deno.test("successes of a burst are recorded together; one whose lease is gone is refused", async () => {
  await withSqliteStore(async (store) => {
    for (let i = 0; i < 3; i++) await add(store, { sortKey: T0 + i, payload: { i } });
    const [a, b, c] = await Promise.all([
      claim(store, "w1"),
      claim(store, "w2"),
      claim(store, "w3"),
    ]);
    await store.cancel(b!.id, T0 + 1_500);
    const outcomes = await Promise.allSettled([
      store.complete(a!.id, a!.fence, { a: 1 }, T0 + 2_000),
      store.complete(b!.id, b!.fence, { b: 1 }, T0 + 2_000),
      store.complete(c!.id, c!.fence, null, T0 + 2_000),
    ]);
    assert.equal(outcomes[1].status, "rejected");
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /lease/);
    for (const i of [0, 2]) {
      const { task } = (outcomes[i] as PromiseFulfilledResult<{ task: Task }>).value;
      assert.equal(task.state, "succeeded");
      assert.deepEqual(task, await store.getTask(task.id));
    }
    assert.equal((await store.getTask(b!.id))?.state, "cancelled");
  });
});

Deno.test("claims of a burst share a budget: each sees what the ones before it took", async () => {
  await withSqliteStore(async (store) => {
    const ledger = new ResourceLedger({ gpu: 2 });
    for (let i = 0; i < 4; i++) await add(store, { resources: { gpu: 1 }, sortKey: T0 + i });
    const plain = await add(store, { sortKey: T0 + 10 });
    const claimed = await Promise.all(
      Array.from({ length: 4 }, (_, w) => claim(store, `w${w}`, { budget: ledger })),
    );
    const ids = claimed.map((t) => t?.id ?? null);
    assert.equal(claimed.filter((t) => t?.resources.gpu === 1).length, 2);
    assert.ok(ids.includes(plain.id), "a task that needs nothing is not held up");
    assert.equal(ids.filter((id) => id === null).length, 1);
    assert.deepEqual(ledger.free(), { gpu: 0 });
  });
});

Deno.test("a closed store refuses claims at once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-claims-" });
  const store = SqliteStore.open(dir);
  await store.close();
  await assert.rejects(claim(store, "w1"), /closed/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a rate limit's window survives a restart: the tasks started in it still count", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-window-" });
  const DAY = 86_400_000;
  const now = Math.floor(Date.now() / DAY) * DAY + 1_000; // early in today's window
  const claimMail = (store: SqliteStore, at: number) =>
    store.claim({ workerId: "w", queues: ["mail"], leaseMs: 30_000, now: at });
  try {
    const first = SqliteStore.open(dir);
    await first.setRateLimits({ mail: { max: 2, perMs: DAY } }, now);
    for (let i = 0; i < 4; i++) await add(first, { queue: "mail", sortKey: T0 + i });
    assert.notEqual(await claimMail(first, now), null);
    assert.notEqual(await claimMail(first, now + 1), null);
    assert.equal(await claimMail(first, now + 2), null, "two a day");
    await first.close();

    const again = SqliteStore.open(dir);
    try {
      await again.setRateLimits({ mail: { max: 2, perMs: DAY } }, now + 10);
      assert.equal(await claimMail(again, now + 10), null, "still two a day after the restart");
      assert.equal((await again.rateLimitUsage(now + 10)).mail.count, 2);
      assert.notEqual(await claimMail(again, now + DAY), null, "the next day starts more");
    } finally {
      await again.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
