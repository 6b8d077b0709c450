/**
 * Conformance: finding tasks (listTasks's filters by key, correlation id,
 * subject and creation time, and paging after a position that stays stable
 * while tasks change state).
 */

import assert from "node:assert/strict";
import type { Task } from "../../../lib/tasks/task.ts";
import type { TaskStore } from "../../../lib/store/types.ts";
import { add, mustClaim, newTask, type StoreCase, T0 } from "./helpers.ts";

const ids = (tasks: Task[]) => tasks.map((t) => t.id);

/** Every page of a filter, `size` at a time, each starting after the last task of the one before. */
async function allPages(
  store: TaskStore,
  size: number,
  between?: (page: Task[]) => Promise<void>,
): Promise<Task[]> {
  const out: Task[] = [];
  let after: Task | undefined;
  for (;;) {
    const page = await store.listTasks({
      limit: size,
      ...(after ? { after: { createdAt: after.createdAt, id: after.id } } : {}),
    });
    out.push(...page);
    if (page.length < size) return out;
    after = page[page.length - 1];
    await between?.(page);
  }
}

/**
 * Cases of `listTasks`'s filters and paging.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(findCases)) await t.step(rule, () => body(store));
 * ```
 */
export const findCases: Record<string, StoreCase> = {
  "by key: every task that had the key, live or finished, newest first": async (store) => {
    const first = await add(store, { key: "report", createdAt: T0 });
    await add(store, { key: "other", createdAt: T0 + 1 });
    await store.cancel(first.id, T0 + 2);
    const second = await add(store, { key: "report", createdAt: T0 + 3 }, T0 + 3);
    await add(store, { createdAt: T0 + 4 });
    assert.deepEqual(ids(await store.listTasks({ key: "report" })), [second.id, first.id]);
    assert.deepEqual(ids(await store.listTasks({ key: "report", state: "cancelled" })), [
      first.id,
    ]);
    assert.deepEqual(await store.listTasks({ key: "none" }), []);
  },

  "by correlation id and by the subject of the event that made the task": async (store) => {
    const event = (subject: string) => ({ path: subject, event: { id: "e", subject } });
    const a = await add(store, { correlationId: "c-1", payload: event("/in/a.txt") });
    const b = await add(store, { correlationId: "c-1", payload: event("/in/b.txt") });
    await add(store, { correlationId: "c-2", payload: event("/in/a.txt") });
    await add(store, { payload: { subject: "/in/a.txt" } });
    assert.deepEqual(
      new Set(ids(await store.listTasks({ correlationId: "c-1" }))),
      new Set([a.id, b.id]),
    );
    assert.equal((await store.listTasks({ subject: "/in/a.txt" })).length, 2);
    assert.deepEqual(ids(await store.listTasks({ subject: "/in/a.txt", correlationId: "c-1" })), [
      a.id,
    ]);
    assert.deepEqual(await store.listTasks({ correlationId: "c-3" }), []);
  },

  "by creation time: createdAfter inclusive, createdBefore exclusive": async (store) => {
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await add(store, { createdAt: T0 + i * 1_000 }));
    const found = await store.listTasks({ createdAfter: T0 + 1_000, createdBefore: T0 + 3_000 });
    assert.deepEqual(ids(found), [made[2].id, made[1].id]);
    assert.deepEqual(ids(await store.listTasks({ createdBefore: T0 + 1_000 })), [made[0].id]);
    assert.deepEqual(ids(await store.listTasks({ createdAfter: T0 + 4_000 })), [made[4].id]);
    assert.deepEqual(await store.listTasks({ createdAfter: T0 + 3_000, createdBefore: T0 }), []);
  },

  "a page after a position continues the order; filters apply to it": async (store) => {
    const made: Task[] = [];
    for (let i = 0; i < 7; i++) {
      made.push(await add(store, { createdAt: T0 + Math.floor(i / 2), type: i % 2 ? "b" : "a" }));
    }
    const newestFirst = ids(await store.listTasks({}));
    assert.deepEqual(ids(await allPages(store, 3)), newestFirst);
    const page = await store.listTasks({ limit: 2 });
    const last = page[1];
    const rest = await store.listTasks({ after: { createdAt: last.createdAt, id: last.id } });
    assert.deepEqual(ids(rest), newestFirst.slice(2));
    const onlyA = await store.listTasks({
      type: "a",
      after: { createdAt: last.createdAt, id: last.id },
    });
    assert.deepEqual(
      ids(onlyA),
      newestFirst.slice(2).filter((id) => made.find((t) => t.id === id)!.type === "a"),
    );
  },

  "paging while tasks run, finish and are retried returns each task once": async (store) => {
    await store.enqueueMany(
      Array.from({ length: 60 }, (_, i) => newTask({ createdAt: T0 + i })),
      T0,
    );
    let now = T0 + 1_000;
    const seen = await allPages(store, 7, async () => {
      // Between pages, tasks start, finish, fail and come back: none moves in the order.
      for (let i = 0; i < 5; i++) {
        const running = await mustClaim(store, ++now);
        if (i % 2) await store.complete(running.id, running.fence, null, ++now);
        else {
          await store.fail(running.id, running.fence, { message: "x", attempt: 1 }, null, ++now);
          await store.retry(running.id, ++now);
        }
      }
    });
    assert.equal(seen.length, 60);
    assert.equal(new Set(ids(seen)).size, 60);
  },
};
