/**
 * Conformance: creating tasks (enqueue, enqueueMany): first states, dedupe by
 * key, dependency resolution, cycles, atomic batches.
 */

import assert from "node:assert/strict";
import { ConflictError, CycleError, ValidationError } from "../../../lib/errors.ts";
import { add, claimNext, fetchTask, mustClaim, newTask, type StoreCase, T0 } from "./helpers.ts";

/**
 * Cases of `enqueue`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(enqueueCases)) await t.step(rule, () => body(store));
 * ```
 */
export const enqueueCases: Record<string, StoreCase> = {
  "a plain task is queued with fresh counters and everything it was given": async (store) => {
    const input = newTask({
      payload: { path: "a.txt", n: [1, 2] },
      resources: { gpu: 1 },
      key: "k1",
      deadline: T0 + 60_000,
      expiresAt: T0 + 120_000,
      timeoutMs: 5_000,
      correlationId: "corr-1",
      createdAt: T0 - 5,
    });
    const { task, deduplicated } = await store.enqueue(input, T0);
    assert.equal(deduplicated, false);
    assert.deepEqual(task, {
      ...input,
      state: "queued",
      attempts: 0,
      fence: 0,
      progress: 0,
      progressMessage: null,
      result: null,
      error: null,
      enqueuedAt: T0,
      startedAt: null,
      finishedAt: null,
      workerId: null,
      leaseUntil: null,
    });
    assert.deepEqual(await store.getTask(task.id), task);
    assert.equal(await store.getTask("no-such-task"), null);
  },

  "runAt in the future makes it scheduled, runAt now or past queued": async (store) => {
    const scheduled = await add(store, { runAt: T0 + 1 });
    assert.equal(scheduled.state, "scheduled");
    assert.deepEqual(await store.getTask(scheduled.id), scheduled, "stored with its runAt");
    assert.equal((await add(store, { runAt: T0 })).state, "queued");
    assert.equal((await add(store, { runAt: T0 - 1_000 })).state, "queued");
  },

  "a live task with the same key is returned and nothing is created": async (store) => {
    const first = await add(store, { key: "index:docs" });
    const again = await store.enqueue(newTask({ key: "index:docs", payload: "other" }), T0 + 1);
    assert.equal(again.deduplicated, true);
    assert.deepEqual(again.task, first);
    assert.equal((await store.listTasks({})).length, 1);
    // still live while running
    await mustClaim(store);
    assert.equal((await store.enqueue(newTask({ key: "index:docs" }), T0 + 2)).deduplicated, true);
  },

  "a key is free again once its task finished": async (store) => {
    const first = await add(store, { key: "once" });
    const running = await mustClaim(store);
    await store.complete(running.id, running.fence, null, T0 + 1);
    const second = await store.enqueue(newTask({ key: "once" }), T0 + 2);
    assert.equal(second.deduplicated, false);
    assert.notEqual(second.task.id, first.id);
    assert.equal(second.task.state, "queued");
  },

  "dependsOn takes ids and keys and stores ids; a key means its newest task": async (store) => {
    const older = await add(store, { key: "build", createdAt: T0 });
    await store.cancel(older.id, T0 + 1);
    const newer = await add(store, { key: "build", createdAt: T0 + 2 }, T0 + 2);
    const other = await add(store);
    const task = await add(store, { dependsOn: ["build", other.id] }, T0 + 3);
    assert.deepEqual(task.dependsOn, [newer.id, other.id]);
    assert.equal(task.state, "waiting");
  },

  "waiting while a dependency has not succeeded, queued once all have": async (store) => {
    const done = await add(store, { queue: "first" });
    const running = await mustClaim(store, T0, { queues: ["first"] });
    await store.complete(running.id, running.fence, null, T0);
    const pending = await add(store, { queue: "second" });
    assert.equal((await add(store, { dependsOn: [done.id] })).state, "queued");
    assert.equal((await add(store, { dependsOn: [done.id, pending.id] })).state, "waiting");
    assert.equal((await add(store, { dependsOn: [done.id], runAt: T0 + 10 })).state, "scheduled");
  },

  "a dependency that ended badly makes the new task failed at once": async (store) => {
    const cancelled = await add(store);
    await store.cancel(cancelled.id, T0);
    const fine = await add(store);
    const task = await add(store, { dependsOn: [fine.id, cancelled.id] }, T0 + 5);
    assert.equal(task.state, "failed");
    assert.equal(task.finishedAt, T0 + 5);
    assert.deepEqual(task.error, {
      message: `dependency ${cancelled.id} ended cancelled`,
      attempt: 0,
      permanent: true,
    });
  },

  "an unknown dependsOn entry is a ValidationError naming it, and nothing is created": async (
    store,
  ) => {
    await assert.rejects(store.enqueue(newTask({ dependsOn: ["nope"] }), T0), (error) => {
      assert.ok(error instanceof ValidationError);
      assert.deepEqual(error.details, { field: "dependsOn", value: "nope" });
      return true;
    });
    assert.deepEqual(await store.listTasks({}), []);
  },

  "a task that depends on its own key or id is a CycleError": async (store) => {
    await assert.rejects(store.enqueue(newTask({ key: "me", dependsOn: ["me"] }), T0), CycleError);
    const selfId = newTask();
    await assert.rejects(store.enqueue({ ...selfId, dependsOn: [selfId.id] }, T0), CycleError);
    assert.deepEqual(await store.listTasks({}), []);
  },
};

/**
 * Cases of `enqueueMany`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(enqueueManyCases)) await t.step(rule, () => body(store));
 * ```
 */
export const enqueueManyCases: Record<string, StoreCase> = {
  "results come in input order; dependsOn names batch keys earlier or later": async (store) => {
    const b = newTask({ key: "b", dependsOn: ["a"] });
    const a = newTask({ key: "a" });
    const c = newTask({ dependsOn: ["b", a.id] });
    const results = await store.enqueueMany([b, a, c], T0);
    assert.deepEqual(results.map((r) => r.task.id), [b.id, a.id, c.id]);
    assert.deepEqual(results.map((r) => r.deduplicated), [false, false, false]);
    assert.deepEqual(results.map((r) => r.task.state), ["waiting", "queued", "waiting"]);
    assert.deepEqual(results[0].task.dependsOn, [a.id]);
    assert.deepEqual(results[2].task.dependsOn, [b.id, a.id]);
    assert.equal((await fetchTask(store, c.id)).state, "waiting");
  },

  "a cycle in the batch is a CycleError listing the path, and nothing is created": async (
    store,
  ) => {
    const x = newTask({ key: "x", dependsOn: ["z"] });
    const y = newTask({ key: "y", dependsOn: ["x"] });
    const z = newTask({ key: "z", dependsOn: ["y"] });
    const free = newTask();
    await assert.rejects(store.enqueueMany([free, x, y, z], T0), (error) => {
      assert.ok(error instanceof CycleError);
      const cycle = error.details.cycle as string[];
      assert.ok(Array.isArray(cycle) && cycle.length === 4, `cycle path: ${cycle}`);
      assert.equal(cycle[0], cycle[cycle.length - 1]);
      const named = (t: typeof x) => cycle.includes(t.key!) || cycle.includes(t.id);
      assert.ok(named(x) && named(y) && named(z), `cycle path names x, y, z: ${cycle}`);
      return true;
    });
    assert.deepEqual(await store.listTasks({}), []);
  },

  "any error leaves nothing of the batch behind": async (store) => {
    const good = newTask({ key: "good" });
    const bad = newTask({ dependsOn: ["missing"] });
    await assert.rejects(store.enqueueMany([good, bad], T0), ValidationError);
    assert.deepEqual(await store.listTasks({}), []);
    assert.equal((await store.enqueue(newTask({ key: "good" }), T0)).deduplicated, false);
  },

  "an id that exists, or comes twice in one batch, is refused and nothing of the batch is written":
    async (store) => {
      const stored = await add(store);
      const fresh = newTask();
      await assert.rejects(
        store.enqueueMany([fresh, { ...newTask(), id: stored.id }], T0),
        (error) => error instanceof ConflictError && error.message.includes(stored.id),
      );
      const twice = newTask();
      await assert.rejects(store.enqueueMany([twice, newTask(), twice], T0), ConflictError);
      assert.deepEqual((await store.listTasks({})).map((t) => t.id), [stored.id]);
      assert.equal(await store.getTask(fresh.id), null);
    },

  "keys dedupe against live tasks and within the batch": async (store) => {
    const live = await add(store, { key: "x" });
    const results = await store.enqueueMany([
      newTask({ key: "x" }),
      newTask({ key: "y" }),
      newTask({ key: "y" }),
      newTask({ dependsOn: ["x", "y"] }),
    ], T0);
    assert.deepEqual(results.map((r) => r.deduplicated), [true, false, true, false]);
    assert.equal(results[0].task.id, live.id);
    assert.equal(results[2].task.id, results[1].task.id);
    assert.deepEqual(results[3].task.dependsOn, [live.id, results[1].task.id]);
    assert.equal((await store.listTasks({})).length, 3);
  },

  "an empty batch creates nothing": async (store) => {
    assert.deepEqual(await store.enqueueMany([], T0), []);
    assert.equal(await claimNext(store), null);
  },
};
