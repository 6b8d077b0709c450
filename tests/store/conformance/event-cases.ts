/**
 * Conformance: the event log (append, history in log order after an event and
 * by pattern) and retention (trim).
 */

import assert from "node:assert/strict";
import type { RetentionPolicy } from "../../../lib/store/types.ts";
import { add, cloudEvent, fetchTask, finished, type StoreCase, T0 } from "./helpers.ts";

const DAY = 86_400_000;
const keepAll: RetentionPolicy = {
  maxFinishedTasks: 1_000_000,
  finishedTaskMaxAgeMs: 365 * DAY,
  resultTtlMs: 365 * DAY,
  maxEvents: 1_000_000,
  eventMaxAgeMs: 365 * DAY,
};

/**
 * Cases of `appendEvents` and `eventHistory`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(eventCases)) await t.step(rule, () => body(store));
 * ```
 */
export const eventCases: Record<string, StoreCase> = {
  "appending is idempotent by id and events come back whole": async (store) => {
    const created = cloudEvent("file.created", T0, { path: "a.txt", size: 3 });
    const withExtras = { ...cloudEvent("task.succeeded", T0), subject: "s", correlationid: "c" };
    await store.appendEvents([created, withExtras]);
    await store.appendEvents([created]);
    await store.appendEvents([]);
    assert.deepEqual(await store.eventHistory({ limit: 10 }), [created, withExtras]);
  },

  "history: in the order appended, after an event, at most limit": async (store) => {
    const events = Array.from({ length: 6 }, (_, i) => cloudEvent("file.created", T0 + i));
    // The later batch holds the smaller ids, as when a slower process's write lands last.
    await store.appendEvents(events.slice(3));
    await store.appendEvents(events.slice(0, 3));
    const logged = [...events.slice(3), ...events.slice(0, 3)].map((e) => e.id);
    const idsOf = async (after: string | undefined, limit: number) =>
      (await store.eventHistory({ after, limit })).map((e) => e.id);
    assert.deepEqual(await idsOf(undefined, 100), logged);
    assert.deepEqual(await idsOf(undefined, 2), logged.slice(0, 2));
    assert.deepEqual(await idsOf(logged[1], 3), logged.slice(2, 5));
    // A reader that saw the first batch and resumes after its last event gets
    // the second one, although its ids are smaller.
    assert.deepEqual(await idsOf(events[5].id, 10), events.slice(0, 3).map((e) => e.id));
    assert.deepEqual(await idsOf(logged[5], 10), []);
    // An id the log does not hold: the events with a greater one.
    assert.deepEqual(await idsOf(`${events[2].id}0`, 10), events.slice(3).map((e) => e.id));
  },

  "history filters by type pattern: exact, * and **": async (store) => {
    const types = [
      "file.created",
      "file.deleted",
      "file.a.b",
      "task.succeeded",
      "task.x.y",
      "feed.item.new",
    ];
    const events = types.map((type, i) => cloudEvent(type, T0 + i));
    await store.appendEvents(events);
    const typesOf = async (type: string, limit = 100) =>
      (await store.eventHistory({ type, limit })).map((e) => e.type);
    assert.deepEqual(await typesOf("file.created"), ["file.created"]);
    assert.deepEqual(await typesOf("file.*"), ["file.created", "file.deleted"]);
    assert.deepEqual(await typesOf("task.**"), ["task.succeeded", "task.x.y"]);
    assert.deepEqual(await typesOf("*.item.*"), ["feed.item.new"]);
    assert.deepEqual(await typesOf("**"), types);
    assert.deepEqual(await typesOf("file.**", 2), ["file.created", "file.deleted"]);
    const after = await store.eventHistory({ type: "file.**", after: events[1].id, limit: 10 });
    assert.deepEqual(after.map((e) => e.id), [events[2].id]);
  },
};

/**
 * Cases of `trim`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(trimCases)) await t.step(rule, () => body(store));
 * ```
 */
export const trimCases: Record<string, StoreCase> = {
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
