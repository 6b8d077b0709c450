/**
 * Conformance: a full bounded queue with a drop policy (`overflow` in the
 * enqueue options) makes room inside the enqueue step by cancelling queued
 * tasks, never the batch's own, never scheduled ones; too few to drop, and
 * the step creates nothing and throws QueueFullError as under `reject`.
 */

import assert from "node:assert/strict";
import { QueueFullError } from "../../../lib/errors.ts";
import type { EnqueueOptions, EnqueueResult, TaskStore } from "../../../lib/store/types.ts";
import type { NewTask } from "../../../lib/tasks/task.ts";
import { newTask, type StoreCase, T0 } from "./helpers.ts";

const OLDEST: EnqueueOptions = { maxSize: { mail: 3 }, overflow: { mail: "drop-oldest" } };
const LOWEST: EnqueueOptions = {
  maxSize: { mail: 3 },
  overflow: { mail: "drop-lowest-priority" },
};

async function put(
  store: TaskStore,
  options: EnqueueOptions,
  createdAt: number,
  priority = 5,
  more: Partial<NewTask> = {},
): Promise<EnqueueResult> {
  return await store.enqueue(newTask({ queue: "mail", createdAt, priority, ...more }), T0, options);
}

/** The ids a result dropped, each checked to be cancelled with the policy in its error. */
function droppedIds(result: EnqueueResult, policy: string): string[] {
  return (result.dropped ?? []).map(({ task }) => {
    assert.equal(task.state, "cancelled");
    assert.match(
      task.error?.message ?? "",
      new RegExp(`dropped \\(${policy}\\).*${result.task.id}`),
    );
    return task.id;
  });
}

/** Cases of `enqueue`/`enqueueMany` with a drop policy. */
export const overflowCases: Record<string, StoreCase> = {
  "drop-oldest cancels the oldest queued task, never a scheduled one or the batch's": async (
    store,
  ) => {
    const a = (await put(store, OLDEST, T0)).task;
    const b = (await put(store, OLDEST, T0 + 1)).task;
    await put(store, OLDEST, T0 - 5, 5, { runAt: T0 + 60_000 }); // scheduled: counts, never dropped
    const waiter = await store.enqueue(newTask({ queue: "web", dependsOn: [b.id] }), T0);
    assert.equal(waiter.task.state, "waiting");

    const d = await put(store, OLDEST, T0 + 3);
    assert.equal(d.task.state, "queued");
    assert.deepEqual(droppedIds(d, "drop-oldest"), [a.id]);
    assert.equal((await store.getTask(a.id))?.state, "cancelled");

    // b goes next, and its waiting dependent fails with it.
    const e = await put(store, OLDEST, T0 + 4);
    assert.deepEqual(droppedIds(e, "drop-oldest"), [b.id]);
    assert.deepEqual(
      e.dropped?.[0].dependents.map(({ task, from }) => [task.id, from, task.state]),
      [[waiter.task.id, "waiting", "failed"]],
    );

    // A batch of two drops the two queued (d, e), each by the task taking its place.
    const [f, g] = await store.enqueueMany(
      [
        newTask({ queue: "mail", createdAt: T0 + 5 }),
        newTask({ queue: "mail", createdAt: T0 + 6 }),
      ],
      T0,
      OLDEST,
    );
    assert.deepEqual(droppedIds(f, "drop-oldest"), [d.task.id]);
    assert.deepEqual(droppedIds(g, "drop-oldest"), [e.task.id]);

    // Three more need three drops; two are queued: nothing is written.
    await assert.rejects(
      store.enqueueMany(
        [1, 2, 3].map((i) => newTask({ queue: "mail", createdAt: T0 + 10 + i })),
        T0,
        OLDEST,
      ),
      (error) => error instanceof QueueFullError && error.size === 3,
    );
    const counts = (await store.queueCounts()).mail;
    assert.equal(counts?.queued, 2);
    assert.equal(counts?.scheduled, 1);
    assert.equal(counts?.cancelled, 4);
    // Without the option the same queue refuses.
    await assert.rejects(put(store, { maxSize: { mail: 3 } }, T0 + 20), QueueFullError);
  },

  "drop-lowest-priority cancels the lowest priority first, the oldest among equals": async (
    store,
  ) => {
    const a = (await put(store, LOWEST, T0, 5)).task;
    const b = (await put(store, LOWEST, T0 + 1, 3)).task;
    const c = (await put(store, LOWEST, T0 + 2, 3)).task;
    // Keyed (the general path) and plain (the fast path) both drop.
    assert.deepEqual(droppedIds(await put(store, LOWEST, T0 + 3, 7, { key: "k" }), LOWEST_NAME), [
      b.id,
    ]);
    assert.deepEqual(droppedIds(await put(store, LOWEST, T0 + 4, 7), LOWEST_NAME), [c.id]);
    assert.deepEqual(droppedIds(await put(store, LOWEST, T0 + 5, 9), LOWEST_NAME), [a.id]);
    // Not full: nothing dropped.
    const other = await store.enqueue(newTask({ queue: "web" }), T0, LOWEST);
    assert.equal(other.dropped, undefined);
  },
};

const LOWEST_NAME = "drop-lowest-priority";
