/**
 * Conformance: bulk changes (changeTasks): each task changes as the
 * single-task action would, tasks the action does not apply to are skipped,
 * and dependents fail with a cancelled or deleted task.
 */

import assert from "node:assert/strict";
import type { TaskStore } from "../../../lib/store/types.ts";
import type { Task } from "../../../lib/tasks/task.ts";
import {
  add,
  explanationFor,
  fetchTask,
  finished,
  mustClaim,
  newTask,
  type StoreCase,
  T0,
} from "./helpers.ts";

/** A task that used up its attempts. */
async function dead(store: TaskStore, queue = "bulk"): Promise<Task> {
  const task = await add(store, { queue });
  const running = await mustClaim(store, T0, { queues: [queue] });
  assert.equal(running.id, task.id);
  return (await store.fail(running.id, running.fence, { message: "no", attempt: 1 }, null, T0))
    .task;
}

/**
 * Cases of `changeTasks`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(bulkCases)) await t.step(rule, () => body(store));
 * ```
 */
export const bulkCases: Record<string, StoreCase> = {
  "retry: ended tasks are queued again with fresh attempts; others are skipped": async (store) => {
    const a = await dead(store);
    const b = await dead(store);
    const live = await add(store, { queue: "other" });
    const { tasks, dependents } = await store.changeTasks(
      { action: "retry", ids: [a.id, live.id, "01NOSUCHTASK00000000000000", b.id] },
      T0 + 10,
    );
    assert.deepEqual(tasks.map((t) => t.id), [a.id, b.id]);
    assert.deepEqual(dependents, []);
    for (const task of tasks) {
      assert.equal(task.state, "queued");
      assert.equal(task.attempts, 0);
      assert.equal(task.enqueuedAt, T0 + 10);
    }
    assert.equal((await fetchTask(store, live.id)).state, "queued");
    assert.equal((await mustClaim(store, T0 + 11, { queues: ["bulk"] })).state, "running");
  },

  "cancel: live tasks end cancelled, running ones too; dependents fail": async (store) => {
    const root = await add(store, { queue: "bulk" });
    const child = await add(store, { dependsOn: [root.id] });
    const running = await mustClaim(store, T0, { queues: ["bulk"] });
    const queued = await add(store, { queue: "bulk" });
    const done = await finished(store, T0);
    const { tasks, dependents } = await store.changeTasks(
      { action: "cancel", ids: [running.id, queued.id, done.id] },
      T0 + 5,
    );
    assert.deepEqual(tasks.map((t) => [t.id, t.state]), [
      [running.id, "cancelled"],
      [queued.id, "cancelled"],
    ]);
    assert.deepEqual(dependents.map((d) => [d.task.id, d.from, d.task.state]), [
      [child.id, "waiting", "failed"],
    ]);
    assert.equal((await fetchTask(store, done.id)).state, "succeeded");
    // The worker's late result is refused, as after a single cancel.
    await assert.rejects(() => store.complete(running.id, running.fence, null, T0 + 6));
  },

  "delete: tasks that are not running are removed; running ones are skipped": async (store) => {
    const gone = await dead(store);
    const root = await add(store, { queue: "bulk", key: "k" });
    const child = await add(store, { dependsOn: [root.id] });
    const other = await add(store, { queue: "run" });
    const running = await mustClaim(store, T0, { queues: ["run"] });
    assert.equal(running.id, other.id);
    const { tasks, dependents } = await store.changeTasks(
      { action: "delete", ids: [gone.id, root.id, running.id] },
      T0 + 5,
    );
    assert.deepEqual(tasks.map((t) => t.id), [gone.id, root.id]);
    assert.deepEqual(dependents.map((d) => [d.task.id, d.task.state]), [[child.id, "failed"]]);
    assert.equal(await store.getTask(gone.id), null);
    assert.equal(await store.getTask(root.id), null);
    assert.equal((await fetchTask(store, running.id)).state, "running");
    const listed = (await store.listTasks({})).map((t) => t.id);
    assert.ok(!listed.includes(gone.id) && !listed.includes(root.id));
    const counts = await store.queueCounts();
    assert.equal(counts.bulk?.dead ?? 0, 0);
    assert.equal(counts.bulk?.queued ?? 0, 0);
    // The key is free again.
    const again = await store.enqueue(newTask({ key: "k" }), T0 + 6);
    assert.equal(again.deduplicated, false);
  },

  "reprioritize: tasks that have not started get the new priority and order": async (store) => {
    const low = await add(store, { queue: "bulk", sortKey: T0 });
    const high = await add(store, { queue: "bulk", sortKey: T0 + 1 });
    const running = await mustClaim(store, T0, { queues: ["bulk"] });
    assert.equal(running.id, low.id);
    const later = await add(store, { queue: "bulk", sortKey: T0 + 2 });
    const { tasks } = await store.changeTasks({
      action: "reprioritize",
      tasks: [low, high, later].map((t, i) => ({
        id: t.id,
        priority: 9,
        sortKey: T0 - 100 - i,
        explanation: explanationFor(T0 - 100 - i, 9),
      })),
    }, T0 + 1);
    assert.deepEqual(tasks.map((t) => [t.id, t.priority]), [[high.id, 9], [later.id, 9]]);
    assert.equal((await mustClaim(store, T0 + 2, { queues: ["bulk"] })).id, later.id);
  },

  "an empty batch changes nothing": async (store) => {
    assert.deepEqual(await store.changeTasks({ action: "cancel", ids: [] }, T0), {
      tasks: [],
      dependents: [],
    });
  },
};
