/**
 * Conformance: what time does to tasks (promoteDue, nextDueAt, recoverStalled,
 * expireDue, tasksNearDeadline).
 */

import assert from "node:assert/strict";
import { add, claimNext, fetchTask, mustClaim, type StoreCase, T0 } from "./helpers.ts";

/**
 * Cases of `promoteDue` and `nextDueAt`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(scheduleCases)) await t.step(rule, () => body(store));
 * ```
 */
export const scheduleCases: Record<string, StoreCase> = {
  "nextDueAt is the earliest runAt of scheduled and retrying tasks": async (store) => {
    assert.equal(await store.nextDueAt(), null);
    await add(store, { runAt: T0 + 9_000 });
    await add(store, { runAt: T0 + 7_000 });
    await add(store, { queue: "r" });
    const running = await mustClaim(store, T0, { queues: ["r"] });
    assert.equal(await store.nextDueAt(), T0 + 7_000);
    await store.fail(running.id, running.fence, { message: "x", attempt: 1 }, T0 + 3_000, T0);
    assert.equal(await store.nextDueAt(), T0 + 3_000);
  },

  "promoteDue queues due tasks only, keeping their place in line": async (store) => {
    const soon = await add(store, { runAt: T0 + 1_000, sortKey: T0 - 5 });
    const later = await add(store, { runAt: T0 + 60_000 });
    await add(store, { queue: "r" });
    const running = await mustClaim(store, T0, { queues: ["r"] });
    await store.fail(running.id, running.fence, { message: "x", attempt: 1 }, T0 + 500, T0);
    assert.deepEqual(await store.promoteDue(T0 + 100), []);
    const moved = await store.promoteDue(T0 + 1_000);
    const byId = Object.fromEntries(moved.map((t) => [t.task.id, t]));
    assert.equal(moved.length, 2);
    assert.equal(byId[soon.id].from, "scheduled");
    assert.equal(byId[running.id].from, "retrying");
    for (const transition of moved) assert.equal(transition.task.state, "queued");
    assert.equal(byId[soon.id].task.enqueuedAt, T0);
    assert.equal(byId[soon.id].task.sortKey, T0 - 5);
    assert.equal((await fetchTask(store, later.id)).state, "scheduled");
    assert.equal(await store.nextDueAt(), T0 + 60_000);
    assert.equal((await mustClaim(store, T0 + 1_000, { queues: ["default"] })).id, soon.id);
    assert.deepEqual(await store.promoteDue(T0 + 1_000), []);
  },
};

/**
 * Cases of `recoverStalled`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(stalledCases)) await t.step(rule, () => body(store));
 * ```
 */
export const stalledCases: Record<string, StoreCase> = {
  "an expired lease puts the task back with an error naming the worker": async (store) => {
    await add(store, { queue: "short" });
    await add(store, { queue: "long" });
    const stalled = await mustClaim(store, T0, {
      queues: ["short"],
      leaseMs: 1_000,
      workerId: "w9",
    });
    const alive = await mustClaim(store, T0, { queues: ["long"], leaseMs: 60_000 });
    assert.deepEqual(await store.recoverStalled(T0 + 1_000 - 1), []);
    const recovered = await store.recoverStalled(T0 + 1_001);
    assert.equal(recovered.length, 1);
    const { task, from } = recovered[0];
    assert.equal(from, "running");
    assert.equal(task.id, stalled.id);
    assert.equal(task.state, "queued");
    assert.equal(task.workerId, null);
    assert.equal(task.leaseUntil, null);
    assert.equal(
      task.fence,
      stalled.fence,
      "recovery does not bump the fence; the next claim does",
    );
    assert.deepEqual(task.error, {
      message: "lease expired: worker w9 stopped renewing",
      attempt: 1,
    });
    assert.equal((await fetchTask(store, alive.id)).state, "running");
    assert.equal(
      (await mustClaim(store, T0 + 1_001, { queues: ["short"] })).fence,
      stalled.fence + 1,
    );
  },

  "a stalled task with no attempts left ends dead and fails its dependents": async (store) => {
    const root = await add(store, { maxAttempts: 1 });
    const child = await add(store, { dependsOn: [root.id] });
    await mustClaim(store, T0, { leaseMs: 100, workerId: "w2" });
    const transitions = await store.recoverStalled(T0 + 200);
    const mine = transitions.find((t) => t.task.id === root.id);
    assert.ok(mine);
    assert.equal(mine.from, "running");
    assert.equal(mine.task.state, "dead");
    assert.equal(mine.task.finishedAt, T0 + 200);
    assert.equal(mine.task.error?.message, "lease expired: worker w2 stopped renewing");
    const failed = await fetchTask(store, child.id);
    assert.equal(failed.state, "failed");
    assert.equal(failed.error?.message, `dependency ${root.id} ended dead`);
    assert.equal(await claimNext(store, T0 + 200), null);
  },

  "with all, every running task counts as stalled": async (store) => {
    await add(store);
    await add(store);
    await mustClaim(store, T0, { leaseMs: 600_000 });
    await mustClaim(store, T0, { leaseMs: 600_000 });
    assert.deepEqual(await store.recoverStalled(T0 + 1), []);
    const recovered = await store.recoverStalled(T0 + 1, true);
    assert.equal(recovered.length, 2);
    assert.deepEqual(recovered.map((t) => t.task.state), ["queued", "queued"]);
    assert.equal((await store.queueCounts()).default.queued, 2);
  },
};

/**
 * Cases of `expireDue`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(expiryCases)) await t.step(rule, () => body(store));
 * ```
 */
export const expiryCases: Record<string, StoreCase> = {
  "tasks that never started by expiresAt end expired; running ones are left": async (store) => {
    const queued = await add(store, { expiresAt: T0 + 100 });
    const scheduled = await add(store, { expiresAt: T0 + 100, runAt: T0 + 50_000 });
    const dependent = await add(store, { dependsOn: [scheduled.id] });
    const fresh = await add(store, { expiresAt: T0 + 10_000 });
    await add(store, { queue: "r", expiresAt: T0 + 100 });
    const running = await mustClaim(store, T0, { queues: ["r"] });
    const expired = await store.expireDue(T0 + 100);
    const byId = Object.fromEntries(expired.map((t) => [t.task.id, t]));
    assert.equal(byId[queued.id].from, "queued");
    assert.equal(byId[queued.id].task.state, "expired");
    assert.equal(byId[queued.id].task.finishedAt, T0 + 100);
    assert.equal(byId[scheduled.id].from, "scheduled");
    assert.equal((await fetchTask(store, fresh.id)).state, "queued");
    assert.equal((await fetchTask(store, running.id)).state, "running");
    const failed = await fetchTask(store, dependent.id);
    assert.equal(failed.state, "failed");
    assert.equal(failed.error?.message, `dependency ${scheduled.id} ended expired`);
  },
};

/**
 * Cases of `tasksNearDeadline`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(deadlineCases)) await t.step(rule, () => body(store));
 * ```
 */
export const deadlineCases: Record<string, StoreCase> = {
  "not-started live tasks with a deadline before the bound, soonest first": async (store) => {
    const second = await add(store, { deadline: T0 + 2_000 });
    const first = await add(store, { deadline: T0 + 1_000, runAt: T0 + 500 });
    const third = await add(store, { deadline: T0 + 3_000, dependsOn: [second.id] });
    await add(store, { deadline: T0 + 90_000 });
    await add(store);
    await add(store, { queue: "r", deadline: T0 + 10 });
    const running = await mustClaim(store, T0, { queues: ["r"] });
    const cancelled = await add(store, { deadline: T0 + 20 });
    await store.cancel(cancelled.id, T0);
    const near = await store.tasksNearDeadline(T0 + 3_000, 10);
    assert.deepEqual(near.map((t) => t.id), [first.id, second.id, third.id]);
    assert.ok(!near.some((t) => t.id === running.id));
    assert.deepEqual(
      (await store.tasksNearDeadline(T0 + 3_000, 2)).map((t) => t.id),
      [first.id, second.id],
    );
  },
};
