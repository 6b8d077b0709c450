/**
 * Conformance: how far a batch is without reading its tasks (batchPulse),
 * and that every way a task ends, or comes back, keeps its batch's live
 * count right, so settleBatch marks a batch exactly when its last task ends.
 */

import assert from "node:assert/strict";
import { newId } from "../../../lib/events/cloud-event.ts";
import type { TaskStore } from "../../../lib/store/types.ts";
import type { NewTask } from "../../../lib/tasks/task.ts";
import { mustClaim, newTask, type StoreCase, T0 } from "./helpers.ts";

/** Creates tasks of a new batch (each built from `overrides`, in their own queue). */
async function batchOf(store: TaskStore, tasks: Array<Partial<NewTask>>, at = T0) {
  const batchId = newId();
  const queue = `live-${batchId}`;
  const results = await store.enqueueMany(
    tasks.map((overrides) => newTask({ queue, batchId, ...overrides })),
    at,
    { newBatch: true },
  );
  return { batchId, queue, ids: results.map((r) => r.task.id) };
}

/** How many of the batch's tasks the store counts live. */
async function liveOf(store: TaskStore, batchId: string): Promise<number | null> {
  const pulse = await store.batchPulse(batchId);
  assert.ok(pulse !== null, `batch ${batchId} known`);
  return pulse.live;
}

/**
 * Cases of batchPulse, and of settleBatch after each way a task ends.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(batchLiveCases)) await t.step(rule, () => body(store));
 * ```
 */
export const batchLiveCases: Record<string, StoreCase> = {
  "batchPulse counts the tasks that joined, the live ones, and the announcement": async (store) => {
    assert.equal(await store.batchPulse(newId()), null);
    const { batchId, queue, ids } = await batchOf(store, [{}, {}, {}]);
    assert.deepEqual(await store.batchPulse(batchId), { joined: 3, live: 3, completed: false });
    const running = await mustClaim(store, T0 + 1, { queues: [queue] });
    assert.equal(await liveOf(store, batchId), 3, "a running task is live");
    await store.complete(running.id, running.fence, null, T0 + 2);
    assert.equal(await liveOf(store, batchId), 2);
    await store.cancel(ids[1], T0 + 3);
    await store.cancel(ids[2], T0 + 3);
    assert.deepEqual(await store.batchPulse(batchId), { joined: 3, live: 0, completed: false });
    assert.notEqual(await store.settleBatch(batchId, T0 + 4), null);
    assert.deepEqual(await store.batchPulse(batchId), { joined: 3, live: 0, completed: true });
  },

  "every way a task ends takes it out of the live count, and the last one settles": async (
    store,
  ) => {
    const depKey = `dep-${newId()}`;
    const { batchId, queue, ids } = await batchOf(store, [
      { maxAttempts: 1 }, // claimed and failed: dead
      { maxAttempts: 2 }, // claimed, failed with a retry (still live), then stalled out: dead at last
      { expiresAt: T0 + 10 }, // expireDue
      {}, // cancelled in bulk
      {}, // deleted in bulk while queued
      { key: depKey }, // cancelled: its dependent fails
      { dependsOn: [depKey] }, // waiting, fails with its dependency
    ]);
    assert.equal(await liveOf(store, batchId), 7);
    const first = await mustClaim(store, T0 + 1, { queues: [queue] });
    assert.equal(first.id, ids[0]);
    await store.fail(first.id, first.fence, { message: "no", attempt: 1 }, null, T0 + 2);
    assert.equal(await liveOf(store, batchId), 6, "fail without a retry");
    const second = await mustClaim(store, T0 + 2, { queues: [queue] });
    assert.equal(second.id, ids[1]);
    await store.fail(second.id, second.fence, { message: "again", attempt: 1 }, T0 + 3, T0 + 2);
    assert.equal(await liveOf(store, batchId), 6, "retrying is live");
    await store.promoteDue(T0 + 3);
    const again = await mustClaim(store, T0 + 3, { queues: [queue], leaseMs: 5 });
    assert.equal(again.id, ids[1]);
    await store.recoverStalled(T0 + 100);
    assert.equal(await liveOf(store, batchId), 5, "a stalled task out of attempts ends dead");
    await store.expireDue(T0 + 100);
    assert.equal(await liveOf(store, batchId), 4, "expired");
    await store.changeTasks({ action: "cancel", ids: [ids[3]] }, T0 + 101);
    await store.changeTasks({ action: "delete", ids: [ids[4]] }, T0 + 101);
    assert.equal(await liveOf(store, batchId), 2, "cancelled and deleted in bulk");
    assert.equal(await store.settleBatch(batchId, T0 + 101), null);
    await store.cancel(ids[5], T0 + 102);
    assert.equal(await liveOf(store, batchId), 0, "cancelled, and its waiting dependent failed");
    const settled = await store.settleBatch(batchId, T0 + 103);
    assert.deepEqual(settled?.counts, { dead: 2, expired: 1, cancelled: 2, failed: 1 });
  },

  "a task whose claim finds it expired leaves the live count": async (store) => {
    const { batchId, queue } = await batchOf(store, [{ expiresAt: T0 + 5 }, {}]);
    const running = await mustClaim(store, T0 + 10, { queues: [queue] });
    assert.equal(await liveOf(store, batchId), 1);
    await store.complete(running.id, running.fence, null, T0 + 11);
    assert.notEqual(await store.settleBatch(batchId, T0 + 11), null);
  },

  "a task that joins failed (its dependency had ended badly) is not live": async (store) => {
    const gone = newTask({ key: `gone-${newId()}` });
    await store.enqueue(gone, T0);
    await store.cancel(gone.id, T0);
    const { batchId, queue } = await batchOf(store, [{ dependsOn: [gone.id] }, {}]);
    assert.equal(await liveOf(store, batchId), 1);
    const running = await mustClaim(store, T0 + 1, { queues: [queue] });
    await store.complete(running.id, running.fence, null, T0 + 2);
    assert.deepEqual((await store.settleBatch(batchId, T0 + 2))?.counts, {
      failed: 1,
      succeeded: 1,
    });
  },

  "a task retried after its batch completed is live again, and the batch is not announced again":
    async (store) => {
      const parentId = newId();
      const queue = `retried-${parentId}`;
      const child = () => newTask({ queue, parentId, batchId: parentId, maxAttempts: 1 });
      const [a, b] = await store.enqueueMany([child(), child()], T0);
      await store.cancel(a.task.id, T0 + 1);
      await store.cancel(b.task.id, T0 + 1);
      assert.notEqual(await store.settleBatch(parentId, T0 + 2), null);
      await store.retry(a.task.id, T0 + 3);
      assert.deepEqual(await store.batchPulse(parentId), { joined: 2, live: 1, completed: true });
      assert.equal((await store.getBatch(parentId))?.done, false);
      const running = await mustClaim(store, T0 + 4, { queues: [queue] });
      await store.complete(running.id, running.fence, null, T0 + 5);
      assert.equal(await liveOf(store, parentId), 0);
      assert.equal(await store.settleBatch(parentId, T0 + 5), null, "announced once only");
      // Retried in bulk, then the parent adds a child: both are live, and the batch opens again.
      await store.changeTasks({ action: "retry", ids: [b.task.id] }, T0 + 6);
      const [c] = await store.enqueueMany([child()], T0 + 7);
      assert.deepEqual(await store.batchPulse(parentId), { joined: 3, live: 2, completed: false });
      await store.cancel(b.task.id, T0 + 8);
      assert.equal(await store.settleBatch(parentId, T0 + 8), null, "one child still live");
      await store.cancel(c.task.id, T0 + 9);
      const settled = await store.settleBatch(parentId, T0 + 9);
      assert.deepEqual(settled?.counts, { succeeded: 1, cancelled: 2 });
    },

  "a recount settles as a plain settle does": async (store) => {
    const { batchId, ids } = await batchOf(store, [{}, {}]);
    assert.equal(await store.settleBatch(batchId, T0 + 1, { recount: true }), null);
    await store.cancel(ids[0], T0 + 1);
    await store.cancel(ids[1], T0 + 1);
    assert.notEqual(await store.settleBatch(batchId, T0 + 2, { recount: true }), null);
    assert.equal(await store.settleBatch(batchId, T0 + 3, { recount: true }), null);
  },
};
