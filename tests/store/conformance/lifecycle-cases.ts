/**
 * Conformance of the `StoreLifecycle`: retention (trim, over tasks and events
 * together) and ping. Closing is checked by the suite runner itself.
 */

import assert from "node:assert/strict";
import type {
  BatchPosition,
  EventStore,
  RetentionPolicy,
  StoreLifecycle,
  TaskStore,
} from "../../../lib/store/types.ts";
import { newId } from "../../../lib/events/cloud-event.ts";
import { add, cloudEvent, fetchTask, finished, newTask, type StoreCase, T0 } from "./helpers.ts";

/**
 * What the lifecycle cases need: trim is checked through the tasks and
 * events it removes.
 *
 * @example
 * ```ts
 * const store: LifecycleSubject = await SqliteStore.open(dir);
 * ```
 */
export type LifecycleSubject = TaskStore & EventStore & StoreLifecycle;

const DAY = 86_400_000;
const keepAll: RetentionPolicy = {
  maxFinishedTasks: 1_000_000,
  finishedTaskMaxAgeMs: 365 * DAY,
  resultTtlMs: 365 * DAY,
  maxEvents: 1_000_000,
  eventMaxAgeMs: 365 * DAY,
};

/**
 * Cases of `trim`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(trimCases)) await t.step(rule, () => body(store));
 * ```
 */
export const trimCases: Record<string, StoreCase<LifecycleSubject>> = {
  "finished tasks past the max age go; live tasks never do": async (store) => {
    const ancientLive = await add(store, { createdAt: T0 - 900 * DAY }, T0 - 900 * DAY);
    const oldDone = await finished(store, T0 - 10 * DAY);
    const newDone = await finished(store, T0 - DAY);
    const removed = await store.trim({ ...keepAll, finishedTaskMaxAgeMs: 5 * DAY }, T0);
    assert.deepEqual(removed, { tasks: 1, events: 0, results: 0 });
    assert.equal(await store.getTask(oldDone.id), null);
    assert.equal((await fetchTask(store, newDone.id)).state, "succeeded");
    assert.equal((await fetchTask(store, ancientLive.id)).state, "queued");
  },

  "announced batches past the finished tasks' max age go; open ones stay": async (store) => {
    const batchOf = async (at: number) => {
      const [{ task }] = await store.enqueueMany([newTask({ batchId: newId() })], at, {
        newBatch: true,
      });
      return task;
    };
    const old = await batchOf(T0 - 10 * DAY);
    await store.cancel(old.id, T0 - 10 * DAY);
    assert.notEqual(await store.settleBatch(old.batchId!, T0 - 10 * DAY), null);
    const live = await batchOf(T0 - 10 * DAY);
    await store.trim({ ...keepAll, finishedTaskMaxAgeMs: 5 * DAY }, T0);
    assert.equal(await store.getBatch(old.batchId!), null);
    assert.equal((await store.getBatch(live.batchId!))?.total, 1);
    const listed: string[] = [];
    for (let after: BatchPosition | undefined, more = true; more;) {
      const page = await store.listBatches({ limit: 500, after });
      listed.push(...page.batches.map((batch) => batch.id));
      [after, more] = [page.next, page.next !== undefined];
    }
    assert.ok(listed.includes(live.batchId!) && !listed.includes(old.batchId!), "listed as stored");
  },

  "only the newest maxFinishedTasks finished tasks stay": async (store) => {
    const done = [];
    for (let i = 0; i < 5; i++) done.push(await finished(store, T0 + i));
    const live = await add(store);
    const removed = await store.trim({ ...keepAll, maxFinishedTasks: 2 }, T0 + 10);
    assert.equal(removed.tasks, 3);
    const left = (await store.listTasks({})).map((t) => t.id).sort();
    assert.deepEqual(left, [done[3].id, done[4].id, live.id].sort());
  },

  "results of old succeeded tasks are cleared, the tasks stay": async (store) => {
    const old = await finished(store, T0 - 2 * DAY, { big: "x".repeat(100) });
    const recent = await finished(store, T0 - 1_000, { small: 1 });
    const removed = await store.trim({ ...keepAll, resultTtlMs: DAY }, T0);
    assert.deepEqual(removed, { tasks: 0, events: 0, results: 1 });
    const cleared = await fetchTask(store, old.id);
    assert.equal(cleared.state, "succeeded");
    assert.equal(cleared.result, null);
    assert.deepEqual((await fetchTask(store, recent.id)).result, { small: 1 });
  },

  "events older than the max age, then the oldest beyond maxEvents, are removed": async (
    store,
  ) => {
    const events = [
      cloudEvent("a.old", T0 - 3 * DAY),
      cloudEvent("a.one", T0 - 1_000),
      cloudEvent("a.two", T0 - 900),
      cloudEvent("a.three", T0 - 800),
    ];
    // One append each: a store may keep the events of one append together.
    for (const event of events) await store.appendEvents([event]);
    const byAge = await store.trim({ ...keepAll, eventMaxAgeMs: DAY }, T0);
    assert.deepEqual(byAge, { tasks: 0, events: 1, results: 0 });
    const byCount = await store.trim({ ...keepAll, maxEvents: 2 }, T0);
    assert.equal(byCount.events, 1);
    assert.deepEqual((await store.eventHistory({ limit: 10 })).map((e) => e.type), [
      "a.two",
      "a.three",
    ]);
  },
};

/**
 * Cases of `ping`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(pingCases)) await t.step(rule, () => body(store));
 * ```
 */
export const pingCases: Record<string, StoreCase<StoreLifecycle>> = {
  "ping answers while the store is open": async (store) => {
    await store.ping();
  },
};
