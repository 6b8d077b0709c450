/**
 * Conformance: how a task ends or comes back (complete, fail, cancel, retry,
 * reprioritize) and what that does to its dependents.
 */

import assert from "node:assert/strict";
import { ConflictError, LeaseLostError, NotFoundError } from "../../../lib/errors.ts";
import type { TaskStore } from "../../../lib/store/types.ts";
import type { TaskError } from "../../../lib/tasks/task.ts";
import {
  add,
  claimNext,
  explanationFor,
  fetchTask,
  mustClaim,
  type StoreCase,
  T0,
} from "./helpers.ts";

const boom: TaskError = { message: "boom", name: "Error", attempt: 1 };

/** Claims the one task of `queue` and completes it at `now`. */
async function completeIn(store: TaskStore, queue: string, now: number) {
  const running = await mustClaim(store, now, { queues: [queue] });
  return await store.complete(running.id, running.fence, { queue }, now);
}

/**
 * Cases of `complete`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(completeCases)) await t.step(rule, () => body(store));
 * ```
 */
export const completeCases: Record<string, StoreCase> = {
  "complete stores the result and ends the task succeeded": async (store) => {
    await add(store);
    const running = await mustClaim(store);
    await store.progress(running.id, running.fence, 0.3, "working");
    const { task, dependents } = await store.complete(running.id, running.fence, {
      rows: 3,
    }, T0 + 50);
    assert.deepEqual(dependents, []);
    assert.equal(task.state, "succeeded");
    assert.deepEqual(task.result, { rows: 3 });
    assert.equal(task.progress, 1);
    assert.equal(task.finishedAt, T0 + 50);
    assert.equal(task.leaseUntil, null);
    assert.deepEqual(await store.getTask(task.id), task);
    await assert.rejects(store.complete(running.id, running.fence, 1, T0 + 60), LeaseLostError);
    assert.deepEqual((await fetchTask(store, task.id)).result, { rows: 3 });
  },

  "complete with a wrong fence is LeaseLostError and changes nothing": async (store) => {
    await add(store);
    const running = await mustClaim(store);
    await assert.rejects(store.complete(running.id, running.fence + 1, 1, T0), LeaseLostError);
    await assert.rejects(store.complete("no-such-task", 1, 1, T0), LeaseLostError);
    assert.deepEqual(await store.getTask(running.id), running);
  },

  "a dependent is released once all its dependencies succeeded": async (store) => {
    const a = await add(store, { queue: "a" });
    const b = await add(store, { queue: "b" });
    const later = await add(store, { queue: "c", dependsOn: [a.id, b.id], runAt: T0 + 60_000 });
    const now = await add(store, { queue: "c", dependsOn: [a.id, b.id] });
    const first = await completeIn(store, "a", T0 + 10);
    assert.deepEqual(first.dependents, []);
    assert.equal((await fetchTask(store, now.id)).state, "waiting");
    const second = await completeIn(store, "b", T0 + 20);
    const released = Object.fromEntries(second.dependents.map((d) => [d.task.id, d]));
    assert.equal(second.dependents.length, 2);
    assert.equal(released[now.id].from, "waiting");
    assert.equal(released[now.id].task.state, "queued");
    assert.equal(released[now.id].task.enqueuedAt, T0 + 20);
    assert.equal(released[later.id].task.state, "scheduled");
    assert.equal((await mustClaim(store, T0 + 20, { queues: ["c"] })).id, now.id);
  },
};

/**
 * Cases of `fail`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(failCases)) await t.step(rule, () => body(store));
 * ```
 */
export const failCases: Record<string, StoreCase> = {
  "fail with retryAt goes retrying, due then, error kept, lease dropped": async (store) => {
    await add(store);
    const running = await mustClaim(store);
    const { task, dependents } = await store.fail(running.id, running.fence, boom, T0 + 5_000, T0);
    assert.deepEqual(dependents, []);
    assert.equal(task.state, "retrying");
    assert.equal(task.runAt, T0 + 5_000);
    assert.deepEqual(task.error, boom);
    assert.equal(task.workerId, null);
    assert.equal(task.leaseUntil, null);
    assert.equal(task.attempts, 1);
    assert.equal(task.finishedAt, null);
    assert.equal(await claimNext(store, T0 + 1_000), null);
    assert.equal(await store.nextDueAt(), T0 + 5_000);
  },

  "fail without retryAt ends dead, or failed when the error is permanent": async (store) => {
    await add(store, { queue: "a" });
    await add(store, { queue: "b" });
    const a = await mustClaim(store, T0, { queues: ["a"] });
    const b = await mustClaim(store, T0, { queues: ["b"] });
    const dead = await store.fail(a.id, a.fence, boom, null, T0 + 1);
    assert.equal(dead.task.state, "dead");
    assert.equal(dead.task.finishedAt, T0 + 1);
    assert.deepEqual(dead.task.error, boom);
    const permanent = { ...boom, permanent: true };
    const failed = await store.fail(b.id, b.fence, permanent, null, T0 + 2);
    assert.equal(failed.task.state, "failed");
    assert.deepEqual(failed.task.error, permanent);
    assert.equal(failed.task.leaseUntil, null);
  },

  "a wrong fence is LeaseLostError": async (store) => {
    await add(store);
    const running = await mustClaim(store);
    await assert.rejects(store.fail(running.id, 99, boom, null, T0), LeaseLostError);
    assert.equal((await fetchTask(store, running.id)).state, "running");
  },

  "a final failure fails every waiting dependent, transitively": async (store) => {
    const root = await add(store, { queue: "root" });
    const child = await add(store, { dependsOn: [root.id] });
    const grandchild = await add(store, { dependsOn: [child.id] });
    const sibling = await add(store, { dependsOn: [root.id] });
    const unrelated = await add(store);
    const running = await mustClaim(store, T0, { queues: ["root"] });
    const { dependents } = await store.fail(running.id, running.fence, boom, null, T0 + 9);
    assert.deepEqual(
      dependents.map((d) => d.task.id).sort(),
      [child.id, grandchild.id, sibling.id].sort(),
    );
    for (const d of dependents) {
      assert.equal(d.from, "waiting");
      assert.equal(d.task.state, "failed");
      assert.equal(d.task.finishedAt, T0 + 9);
      assert.equal(d.task.error?.permanent, true);
      assert.match(d.task.error?.message ?? "", /^dependency \S+ ended (dead|failed)$/);
    }
    assert.equal(
      (await fetchTask(store, child.id)).error?.message,
      `dependency ${root.id} ended dead`,
    );
    assert.equal((await fetchTask(store, grandchild.id)).state, "failed");
    assert.equal((await fetchTask(store, unrelated.id)).state, "queued");
  },
};

/**
 * Cases of `cancel`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(cancelCases)) await t.step(rule, () => body(store));
 * ```
 */
export const cancelCases: Record<string, StoreCase> = {
  "cancel: unknown is NotFoundError, finished is ConflictError": async (store) => {
    await assert.rejects(store.cancel("no-such-task", T0), NotFoundError);
    const task = await add(store);
    await store.cancel(task.id, T0);
    await assert.rejects(store.cancel(task.id, T0 + 1), ConflictError);
  },

  "a cancelled queued task ends cancelled and is never claimed": async (store) => {
    const task = await add(store);
    const { task: cancelled } = await store.cancel(task.id, T0 + 3);
    assert.equal(cancelled.state, "cancelled");
    assert.equal(cancelled.finishedAt, T0 + 3);
    assert.equal(await claimNext(store), null);
  },

  "a running task can be cancelled; its worker's late calls are refused": async (store) => {
    await add(store);
    const running = await mustClaim(store);
    const { task } = await store.cancel(running.id, T0 + 5);
    assert.equal(task.state, "cancelled");
    assert.equal(task.leaseUntil, null);
    await assert.rejects(store.complete(running.id, running.fence, 1, T0 + 6), LeaseLostError);
    await assert.rejects(
      store.fail(running.id, running.fence, boom, T0 + 100, T0 + 6),
      LeaseLostError,
    );
    await assert.rejects(store.progress(running.id, running.fence, 0.9, null), LeaseLostError);
    assert.equal(await store.renew(running.id, running.fence, 1_000, T0 + 6), false);
    assert.equal((await fetchTask(store, running.id)).state, "cancelled");
  },

  "cancelling fails the waiting dependents": async (store) => {
    const root = await add(store);
    const child = await add(store, { dependsOn: [root.id] });
    const { dependents } = await store.cancel(root.id, T0 + 1);
    assert.deepEqual(dependents.map((d) => d.task.id), [child.id]);
    const failed = await fetchTask(store, child.id);
    assert.equal(failed.state, "failed");
    assert.deepEqual(failed.error, {
      message: `dependency ${root.id} ended cancelled`,
      attempt: 0,
      permanent: true,
    });
  },
};

/**
 * Cases of `retry`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(retryCases)) await t.step(rule, () => body(store));
 * ```
 */
export const retryCases: Record<string, StoreCase> = {
  "retry puts a dead task back in line with fresh attempts": async (store) => {
    const original = await add(store, { sortKey: T0 - 77, runAt: T0 - 1 });
    const running = await mustClaim(store);
    await store.fail(running.id, running.fence, boom, null, T0 + 1);
    const task = await store.retry(original.id, T0 + 10);
    assert.equal(task.state, "queued");
    assert.equal(task.attempts, 0);
    assert.equal(task.error, null);
    assert.equal(task.result, null);
    assert.equal(task.finishedAt, null);
    assert.equal(task.startedAt, null);
    assert.equal(task.runAt, null);
    assert.equal(task.enqueuedAt, T0 + 10);
    assert.equal(task.sortKey, T0 - 77);
    const again = await mustClaim(store, T0 + 10);
    assert.equal(again.id, original.id);
    assert.equal(again.attempts, 1);
    assert.ok(again.fence > running.fence, "the fence keeps growing across retries");
  },

  "failed, cancelled and expired tasks can be retried; others are ConflictError": async (
    store,
  ) => {
    await assert.rejects(store.retry("no-such-task", T0), NotFoundError);
    const cancelled = await add(store, { queue: "c" });
    await store.cancel(cancelled.id, T0);
    assert.equal((await store.retry(cancelled.id, T0)).state, "queued");
    const expiring = await add(store, { queue: "e", expiresAt: T0 + 1 });
    await store.expireDue(T0 + 1);
    assert.equal((await store.retry(expiring.id, T0 + 2)).state, "queued");
    await add(store, { queue: "f" });
    const running = await mustClaim(store, T0, { queues: ["f"] });
    await assert.rejects(store.retry(running.id, T0), ConflictError);
    await store.fail(running.id, running.fence, { ...boom, permanent: true }, null, T0);
    assert.equal((await store.retry(running.id, T0)).state, "queued");
    await assert.rejects(store.retry(running.id, T0), ConflictError);
    const succeeded = await mustClaim(store, T0, { queues: ["f"] });
    await store.complete(succeeded.id, succeeded.fence, null, T0);
    await assert.rejects(store.retry(succeeded.id, T0), ConflictError);
  },

  "a retried task waits again while a dependency has not succeeded": async (store) => {
    const root = await add(store, { queue: "root" });
    const child = await add(store, { queue: "child", dependsOn: [root.id] });
    await store.cancel(child.id, T0);
    assert.equal((await store.retry(child.id, T0 + 1)).state, "waiting");
    const running = await mustClaim(store, T0 + 2, { queues: ["root"] });
    const { dependents } = await store.complete(running.id, running.fence, null, T0 + 3);
    assert.deepEqual(dependents.map((d) => d.task.id), [child.id]);
    assert.equal((await fetchTask(store, child.id)).state, "queued");
  },
};

/**
 * Cases of `reprioritize`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(reprioritizeCases)) await t.step(rule, () => body(store));
 * ```
 */
export const reprioritizeCases: Record<string, StoreCase> = {
  "a new sort key changes which task is claimed next": async (store) => {
    await add(store, { sortKey: T0 });
    const b = await add(store, { sortKey: T0 + 1_000 });
    const explanation = { ...explanationFor(T0 - 540_000, 9), notes: ["bumped"] };
    const task = await store.reprioritize(b.id, 9, T0 - 540_000, explanation);
    assert.equal(task.priority, 9);
    assert.equal(task.sortKey, T0 - 540_000);
    assert.deepEqual(task.explanation, explanation);
    assert.deepEqual(await store.getTask(b.id), task);
    assert.equal((await mustClaim(store)).id, b.id);
  },

  "only tasks that have not started can be reprioritized": async (store) => {
    await assert.rejects(
      store.reprioritize("no-such-task", 1, T0, explanationFor(T0)),
      NotFoundError,
    );
    const waitingOn = await add(store, { runAt: T0 + 10_000 });
    const waiting = await add(store, { dependsOn: [waitingOn.id] });
    assert.equal(
      (await store.reprioritize(waiting.id, 1, T0, explanationFor(T0))).state,
      "waiting",
    );
    assert.equal(
      (await store.reprioritize(waitingOn.id, 1, T0, explanationFor(T0))).state,
      "scheduled",
    );
    await add(store, { queue: "r" });
    const running = await mustClaim(store, T0, { queues: ["r"] });
    await assert.rejects(store.reprioritize(running.id, 1, T0, explanationFor(T0)), ConflictError);
    await store.complete(running.id, running.fence, null, T0);
    await assert.rejects(store.reprioritize(running.id, 1, T0, explanationFor(T0)), ConflictError);
  },
};
