/**
 * The bridge's pub/sub message form: `<origin>\n<json>`, so a process tells its
 * own events from their first bytes without parsing them.
 */

import assert from "node:assert/strict";
import { decodeBroadcast, encodeBroadcast, encodeEvent, isFrom } from "../lib/bridge/wire.ts";
import { createEvent } from "../lib/events.ts";

Deno.test("bridge wire: a message is known as its origin's by its prefix alone", () => {
  const event = { ...createEvent({ type: "x.y", source: "/un/api" }), origin: "h:1:abc" };
  const message = encodeBroadcast(event.origin, encodeEvent(event));
  assert.ok(isFrom(message, "h:1:abc"));
  assert.ok(!isFrom(message, "h:1:ab"));
  assert.ok(!isFrom(message, "h:1:abcd"));
  assert.ok(!isFrom(encodeEvent(event), "h:1:abc"), "plain JSON is never told by its prefix");
  assert.deepEqual(decodeBroadcast(message), event);
});

Deno.test("bridge wire: origins holding a newline are still exact", () => {
  const event = { ...createEvent({ type: "x.y", source: "/un/api" }), origin: "a\nb" };
  const message = encodeBroadcast(event.origin, encodeEvent(event));
  assert.ok(isFrom(message, "a\nb"));
  assert.ok(!isFrom(message, "a"));
  assert.deepEqual(decodeBroadcast(message), event);
});

Deno.test("bridge wire: plain JSON is read; a wrong origin line or garbage is not", () => {
  const event = { ...createEvent({ type: "x.y", source: "/un/api" }), origin: "p1" };
  assert.deepEqual(decodeBroadcast(encodeEvent(event)), event);
  assert.equal(decodeBroadcast(encodeBroadcast("p2", encodeEvent(event))), null);
  assert.equal(decodeBroadcast("p1\nnot json"), null);
  assert.equal(decodeBroadcast("no newline"), null);
});
