/**
 * The bridge's wire forms: pub/sub messages are `<origin>\n<JSON array>`, so a
 * process tells its own events from their first bytes without parsing them;
 * stream entries carry their types beside the events.
 */

import assert from "node:assert/strict";
import {
  decodeBroadcast,
  decodeEvents,
  encodeBroadcast,
  encodeEvents,
  EVENTS_FIELD,
  isFrom,
  readGroupEntries,
  TYPES_FIELD,
} from "../lib/store/redis/bridge/wire.ts";
import { createEvent } from "../lib/events/cloud-event.ts";

function eventFrom(origin: string, type = "x.y") {
  return { ...createEvent({ type, source: "/un/api" }), origin };
}

Deno.test("bridge wire: a message is known as its origin's by its prefix alone", () => {
  const event = eventFrom("h:1:abc");
  const message = encodeBroadcast(event.origin, encodeEvents([event]));
  assert.ok(isFrom(message, "h:1:abc"));
  assert.ok(!isFrom(message, "h:1:ab"));
  assert.ok(!isFrom(message, "h:1:abcd"));
  assert.ok(!isFrom(encodeEvents([event]), "h:1:abc"), "plain JSON is never told by its prefix");
  assert.deepEqual(decodeBroadcast(message), [event]);
});

Deno.test("bridge wire: origins holding a newline are still exact", () => {
  const event = eventFrom("a\nb");
  const message = encodeBroadcast(event.origin, encodeEvents([event]));
  assert.ok(isFrom(message, "a\nb"));
  assert.ok(!isFrom(message, "a"));
  assert.deepEqual(decodeBroadcast(message), [event]);
});

Deno.test("bridge wire: one message carries a run of events, in order", () => {
  const events = [eventFrom("p1"), eventFrom("p1"), eventFrom("p1")];
  assert.deepEqual(decodeBroadcast(encodeBroadcast("p1", encodeEvents(events))), events);
});

Deno.test("bridge wire: plain JSON (one event or many) is read; a wrong origin or garbage is not", () => {
  const event = eventFrom("p1");
  assert.deepEqual(decodeBroadcast(JSON.stringify(event)), [event], "an earlier version's form");
  assert.deepEqual(decodeBroadcast(encodeEvents([event])), [event]);
  assert.deepEqual(decodeBroadcast(encodeBroadcast("p2", encodeEvents([event]))), []);
  assert.deepEqual(decodeBroadcast("p1\nnot json"), []);
  assert.deepEqual(decodeBroadcast("no newline"), []);
  assert.deepEqual(decodeEvents('[{"id":"1","type":"x"}, 3, null]'), [], "no origin, not events");
});

Deno.test("bridge wire: stream entries give their types without parsing the events", () => {
  const events = [eventFrom("p1", "file.created"), eventFrom("p1", "task.queued")];
  const reply = [["un:events:stream", [
    ["1-0", [TYPES_FIELD, "file.created\ntask.queued", EVENTS_FIELD, encodeEvents(events)]],
    ["2-0", [EVENTS_FIELD, JSON.stringify(events[0])]],
    ["3-0", null],
  ]]];
  const [batch, old, gone] = readGroupEntries(reply);
  assert.deepEqual(batch.types, ["file.created", "task.queued"]);
  assert.deepEqual(decodeEvents(batch.payload!), events);
  assert.equal(old.types, null, "an entry of an earlier version says nothing of its types");
  assert.deepEqual(decodeEvents(old.payload!), [events[0]]);
  assert.deepEqual(gone, { id: "3-0", types: null, payload: null });
});

Deno.test("bridge wire: entries read as Buffers keep their events undecoded until asked", () => {
  const event = eventFrom("p1", "file.created");
  const bytes = (s: string) => new TextEncoder().encode(s);
  const reply = [[bytes("un:events:stream"), [
    [bytes("7-0"), [
      bytes(TYPES_FIELD),
      bytes("file.created"),
      bytes(EVENTS_FIELD),
      bytes(encodeEvents([event])),
    ]],
  ]]];
  const [entry] = readGroupEntries(reply);
  assert.equal(entry.id, "7-0");
  assert.deepEqual(entry.types, ["file.created"]);
  assert.ok(entry.payload instanceof Uint8Array);
  assert.deepEqual(decodeEvents(entry.payload), [event]);
});
