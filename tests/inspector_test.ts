/** The inspector keeps the newest messages, oldest first, however many went by. */

import assert from "node:assert/strict";
import { Inspector } from "../lib/inspector.ts";

Deno.test("inspector: recent() gives the newest records in order, past the ring's wrap", () => {
  const inspector = new Inspector(1_000);
  assert.deepEqual(inspector.recent(10), []);
  for (let i = 1; i <= 1_500; i++) inspector.record("a", "b", `m.${i}`);
  assert.deepEqual(inspector.recent(3).map((r) => r.type), ["m.1498", "m.1499", "m.1500"]);
  const all = inspector.recent(5_000);
  assert.equal(all.length, 1_000, "no more than the capacity is kept");
  assert.equal(all[0].type, "m.501");
  assert.deepEqual(all.map((r) => r.seq), Array.from({ length: 1_000 }, (_, i) => 501 + i));
});

Deno.test("inspector: live listeners get each record; a broken one does not stop the rest", () => {
  const inspector = new Inspector(10);
  const seen: string[] = [];
  inspector.subscribe(() => {
    throw new Error("closed stream");
  });
  const off = inspector.subscribe((r) => seen.push(r.type));
  inspector.record("a", "b", "one");
  off();
  inspector.record("a", "b", "two");
  assert.deepEqual(seen, ["one"]);
  assert.deepEqual(inspector.recent(10).map((r) => r.type), ["one", "two"]);
});

Deno.test("inspector: records only while watched, and a while after the last watcher left", async () => {
  let feeding = 0;
  const inspector = new Inspector(10, {
    record: () => {
      feeding++;
      return () => feeding--;
    },
    lingerMs: 30,
  });
  assert.equal(inspector.recording, false, "nobody watches yet");
  const offA = inspector.subscribe(() => {});
  const offB = inspector.subscribe(() => {});
  assert.equal(feeding, 1, "one feed for any number of watchers");
  offA();
  offB();
  assert.equal(inspector.recording, true, "a page reload still finds the recent past");
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(inspector.recording, false);
  assert.equal(feeding, 0);
  const offC = inspector.subscribe(() => {});
  assert.equal(feeding, 1, "a new watcher starts it again");
  offC();
  inspector.close();
  assert.equal(feeding, 0);
});
