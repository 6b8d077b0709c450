/**
 * Conformance: batches (tasks created together, or made by one handler):
 * tagging, counts and progress, a taken id, and the one completion.
 */

import assert from "node:assert/strict";
import { newId } from "../../../lib/events/cloud-event.ts";
import { ConflictError } from "../../../lib/errors.ts";
import type { BatchListQuery, BatchStore, BatchView, TaskStore } from "../../../lib/store/types.ts";
import { fetchTask, mustClaim, newTask, type StoreCase, T0 } from "./helpers.ts";

/** Creates `n` tasks of a new batch in their own queue; returns the batch id and the tasks. */
async function batchOf(store: TaskStore, n: number, overrides = {}, at = T0) {
  const batchId = newId();
  const queue = `batch-${batchId}`;
  const results = await store.enqueueMany(
    Array.from({ length: n }, () => newTask({ queue, batchId, ...overrides })),
    at,
    { newBatch: true },
  );
  return { batchId, queue, tasks: results.map((r) => r.task) };
}

/** Claims one task of `queue` and completes it. */
async function completeOne(store: TaskStore, queue: string, now: number) {
  const running = await mustClaim(store, now, { queues: [queue] });
  return await store.complete(running.id, running.fence, { id: running.id }, now);
}

/**
 * Every batch a listing gives, page after page (the store is shared: other
 * cases' batches are in it too), checking each page's order and bound.
 */
async function listAll(store: BatchStore, query: Omit<BatchListQuery, "limit" | "after">) {
  const seen: BatchView[] = [];
  let after: BatchListQuery["after"];
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await store.listBatches({ ...query, limit: 3, after });
    assert.ok(page.batches.length <= 3);
    seen.push(...page.batches);
    if (page.next === undefined) break;
    after = page.next;
  }
  const key = (b: BatchView) => query.state === "completed" ? b.completedAt! : b.createdAt;
  for (let i = 1; i < seen.length; i++) {
    const [a, b] = [seen[i - 1], seen[i]];
    assert.ok(key(a) > key(b) || (key(a) === key(b) && a.id > b.id), `${a.id} before ${b.id}`);
  }
  return seen;
}

/**
 * Cases of getBatch, batchTasks, settleBatch and listBatches.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(batchCases)) await t.step(rule, () => body(store));
 * ```
 */
export const batchCases: Record<string, StoreCase> = {
  "a new batch tags its tasks and counts them": async (store) => {
    const { batchId, tasks } = await batchOf(store, 3);
    assert.equal(tasks[0].batchId, batchId);
    assert.equal((await fetchTask(store, tasks[1].id)).batchId, batchId);
    assert.equal((await fetchTask(store, tasks[1].id)).parentId, undefined);
    const batch = await store.getBatch(batchId);
    assert.deepEqual(batch, {
      id: batchId,
      total: 3,
      counts: { queued: 3 },
      progress: 0,
      done: false,
      createdAt: T0,
    });
    assert.equal(await store.getBatch(newId()), null);
  },

  "a new batch whose id is taken is a ConflictError and creates nothing": async (store) => {
    const { batchId, queue } = await batchOf(store, 2);
    await assert.rejects(
      store.enqueueMany([newTask({ queue, batchId })], T0, { newBatch: true }),
      ConflictError,
    );
    assert.equal((await store.getBatch(batchId))?.total, 2);
    assert.equal((await store.listTasks({ queue })).length, 2);
  },

  "progress is the mean of the tasks', an ended task counting 1": async (store) => {
    const { batchId, queue } = await batchOf(store, 4);
    const running = await mustClaim(store, T0, { queues: [queue] });
    await store.progress(running.id, running.fence, 0.5, null);
    await completeOne(store, queue, T0 + 1);
    const batch = await store.getBatch(batchId);
    assert.equal(batch?.progress, (0.5 + 1) / 4);
    assert.deepEqual(batch?.counts, { queued: 2, running: 1, succeeded: 1 });
  },

  "settleBatch marks the batch once, when its last task ended, whoever asks at once": async (
    store,
  ) => {
    const { batchId, queue, tasks } = await batchOf(store, 2);
    await completeOne(store, queue, T0 + 1);
    assert.equal(await store.settleBatch(batchId, T0 + 1), null);
    const running = await mustClaim(store, T0 + 2, { queues: [queue] });
    await store.fail(running.id, running.fence, { message: "no", attempt: 1 }, null, T0 + 2);
    const settled = await Promise.all(
      Array.from({ length: 5 }, () => store.settleBatch(batchId, T0 + 3)),
    );
    const marked = settled.filter((view) => view !== null);
    assert.equal(marked.length, 1);
    assert.deepEqual(marked[0], {
      id: batchId,
      total: 2,
      counts: { succeeded: 1, dead: 1 },
      progress: 1,
      done: true,
      createdAt: T0,
      completedAt: T0 + 3,
    });
    assert.equal(await store.settleBatch(batchId, T0 + 4), null);
    assert.equal((await store.getBatch(batchId))?.completedAt, T0 + 3);
    assert.deepEqual((await store.batchTasks(batchId)).map((t) => t.id), tasks.map((t) => t.id));
  },

  "two last tasks finished at once: each finisher settles, and one of them gets the batch": async (
    store,
  ) => {
    const { batchId, queue } = await batchOf(store, 2);
    const a = await mustClaim(store, T0, { queues: [queue] });
    const b = await mustClaim(store, T0, { queues: [queue] });
    const finish = async (running: typeof a) => {
      await store.complete(running.id, running.fence, null, T0 + 5);
      return await store.settleBatch(batchId, T0 + 5);
    };
    const settled = await Promise.all([finish(a), finish(b)]);
    assert.equal(settled.filter((view) => view !== null).length, 1, JSON.stringify(settled));
    assert.equal((await store.getBatch(batchId))?.completedAt, T0 + 5);
  },

  "tasks made by a parent join its batch, and more of them open it again": async (store) => {
    const parentId = newId();
    const queue = `fan-${parentId}`;
    const child = () => newTask({ queue, parentId, batchId: parentId });
    const [first] = await store.enqueueMany([child()], T0);
    assert.equal(first.task.parentId, parentId);
    await store.cancel(first.task.id, T0 + 1);
    assert.equal((await store.settleBatch(parentId, T0 + 1))?.done, true);
    await store.enqueueMany([child(), child()], T0 + 2);
    const batch = await store.getBatch(parentId);
    assert.equal(batch?.parentId, parentId);
    assert.equal(batch?.total, 3);
    assert.equal(batch?.completedAt, undefined);
    assert.equal(batch?.done, false);
    assert.equal(await store.settleBatch(parentId, T0 + 3), null);
    assert.equal((await store.batchTasks(parentId, 2)).length, 2);
  },

  "a batch is listed open until it is announced, and again when a parent adds to it": async (
    store,
  ) => {
    const open = async () => await store.openBatches(100_000);
    const parentId = newId();
    const queue = `open-${parentId}`;
    const child = () => newTask({ queue, parentId, batchId: parentId });
    const [first] = await store.enqueueMany([child()], T0);
    assert.ok((await open()).includes(parentId), "open while its task is live");
    await store.cancel(first.task.id, T0 + 1);
    assert.ok((await open()).includes(parentId), "open until settled, though its tasks ended");
    assert.notEqual(await store.settleBatch(parentId, T0 + 1), null);
    assert.ok(!(await open()).includes(parentId), "not listed once announced");
    await store.enqueueMany([child()], T0 + 2);
    assert.ok((await open()).includes(parentId), "listed again once reopened");
  },

  "a settle with no such batch is null": async (store) => {
    assert.equal(await store.settleBatch(newId(), T0), null);
  },

  "listBatches: newest first, a page at a time, open and completed apart": async (store) => {
    const at = T0 + 7_000_000;
    const old = await batchOf(store, 1, {}, at);
    const twins = [await batchOf(store, 2, {}, at + 1), await batchOf(store, 1, {}, at + 1)];
    await store.cancel(old.tasks[0].id, at + 2);
    assert.notEqual(await store.settleBatch(old.batchId, at + 3), null);
    const mine = new Set([old.batchId, ...twins.map((b) => b.batchId)]);
    const own = (list: BatchView[]) => list.filter((b) => mine.has(b.id));

    const all = own(await listAll(store, {}));
    const newest = twins.map((b) => b.batchId).sort().reverse();
    assert.deepEqual(all.map((b) => b.id), [...newest, old.batchId]);
    const twin = all.find((b) => b.id === twins[0].batchId);
    assert.deepEqual(twin, await store.getBatch(twins[0].batchId));
    assert.deepEqual(own(await listAll(store, { state: "open" })).map((b) => b.id), newest);
    const completed = own(await listAll(store, { state: "completed" }));
    assert.deepEqual(completed.map((b) => [b.id, b.completedAt, b.done]), [
      [old.batchId, at + 3, true],
    ]);
  },

  "listBatches counts at most countLimit tasks of a batch, and says so": async (store) => {
    const { batchId } = await batchOf(store, 3, {}, T0 + 8_000_000);
    const listed = (await listAll(store, { countLimit: 2 })).find((b) => b.id === batchId);
    assert.deepEqual(listed, {
      id: batchId,
      total: 2,
      counts: { queued: 2 },
      progress: 0,
      done: false,
      createdAt: T0 + 8_000_000,
      partial: true,
    });
    const whole = (await listAll(store, { countLimit: 3 })).find((b) => b.id === batchId);
    assert.equal(whole?.partial, undefined);
    assert.equal(whole?.total, 3);
  },
};
