/**
 * The bus works out once per event type which subscribers take it; a
 * subscriber added or removed changes that for the next event, and events of
 * other processes still reach only the subscribers that want those.
 */

import assert from "node:assert/strict";
import { EventBus } from "../lib/events/bus.ts";
import { createEvent } from "../lib/events/cloud-event.ts";

const event = (type: string) => createEvent({ type, source: "/un/api" });

Deno.test("subscribers added and removed between events of a type are heard from at once", () => {
  const bus = new EventBus((_name, error) => {
    throw error;
  });
  const heard: string[] = [];
  const offAll = bus.subscribe("**", (e) => void heard.push(`all ${e.type}`), "all");
  bus.publish(event("x.one"));
  const offX = bus.subscribe("x.*", (e) => void heard.push(`x ${e.type}`), "x", { remote: false });
  bus.publish(event("x.one"));
  bus.publishRemote(event("x.one"));
  offAll();
  bus.publish(event("x.one"));
  offX();
  bus.publish(event("x.one"));
  assert.deepEqual(heard, ["all x.one", "all x.one", "x x.one", "all x.one", "x x.one"]);
  assert.equal(bus.size, 0);
});

Deno.test("a subscriber added while an event is delivered hears the next one, not that one", () => {
  const bus = new EventBus((_name, error) => {
    throw error;
  });
  const heard: string[] = [];
  bus.subscribe("y.*", () => {
    heard.push("first");
    if (heard.length === 1) bus.subscribe("y.*", () => void heard.push("late"), "late");
  }, "first");
  bus.publish(event("y.a"));
  bus.publish(event("y.a"));
  assert.deepEqual(heard, ["first", "first", "late"]);
});

Deno.test("remoteSynced waits for every change so far, not only the latest", async () => {
  // The bridge's first change can take in a pattern subscribed after it was
  // asked for; the later change then finds nothing to do and is quick. A
  // stream that waited only for that one would be declared live too early.
  const bus = new EventBus(() => {});
  let finishFirst = () => {};
  const first = new Promise<void>((resolve) => (finishFirst = resolve));
  let calls = 0;
  bus.onRemoteInterest(() => (++calls === 1 ? first : Promise.resolve()));
  bus.subscribe("x.a", () => {});
  bus.subscribe("x.b", () => {});
  let synced = false;
  const waiting = bus.remoteSynced().then(() => (synced = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(synced, false, "resolved while the first change was still under way");
  finishFirst();
  await waiting;
  assert.equal(calls, 2);
});
