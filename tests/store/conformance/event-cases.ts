/**
 * Conformance of the `EventStore`: the event log (append, history in log
 * order after an event and by pattern).
 */

import assert from "node:assert/strict";
import type { EventStore } from "../../../lib/store/types.ts";
import { cloudEvent, type StoreCase, T0 } from "./helpers.ts";

/**
 * Cases of `appendEvents` and `eventHistory`.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(eventCases)) await t.step(rule, () => body(store));
 * ```
 */
export const eventCases: Record<string, StoreCase<EventStore>> = {
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
