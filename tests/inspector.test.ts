/** The inspector keeps the newest messages, oldest first, however many went by. */

import assert from "node:assert/strict";
import { Inspector } from "../lib/inspect/inspector.ts";

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

Deno.test("inspector: a worker's idle polling is one record that counts, until something else comes", () => {
  const inspector = new Inspector(100);
  const heard: Array<{ seq: number; count?: number }> = [];
  inspector.subscribe((r) => heard.push({ seq: r.seq, count: r.count }));
  for (let i = 0; i < 26; i++) {
    inspector.record("loop", "worker-1", i % 2 ? "loop.idle" : "loop.claiming");
    inspector.record("loop", "worker-2", i % 2 ? "loop.idle" : "loop.claiming");
  }
  let recent = inspector.recent(100);
  assert.equal(recent.length, 2, "one line per idle worker");
  assert.deepEqual(recent.map((r) => [r.to, r.count]), [["worker-1", 26], ["worker-2", 26]]);
  assert.ok(recent[0].lastAt! >= recent[0].at);
  // Each growth is sent again under the same seq, so a reader replaces its line.
  assert.deepEqual(new Set(heard.map((h) => h.seq)), new Set([1, 2]));
  assert.equal(heard.at(-1)?.count, 26);

  inspector.record("pool", "worker-1", "wake");
  inspector.record("loop", "worker-1", "loop.running");
  inspector.record("loop", "worker-1", "loop.claiming");
  inspector.record("loop", "worker-2", "loop.idle");
  recent = inspector.recent(100);
  assert.deepEqual(
    recent.map((r) => `${r.to} ${r.type} ${r.count ?? ""}`.trim()),
    [
      "worker-1 loop.claiming 26",
      "worker-2 loop.claiming 27",
      "worker-1 wake",
      "worker-1 loop.running",
      "worker-1 loop.claiming 1",
    ],
  );
});

Deno.test("inspector: an idle line pushed out of the ring starts again as a new one", () => {
  const inspector = new Inspector(3);
  inspector.record("loop", "worker-1", "loop.idle");
  for (let i = 0; i < 3; i++) inspector.record("a", "b", `m.${i}`);
  inspector.record("loop", "worker-1", "loop.idle");
  const recent = inspector.recent(10);
  assert.deepEqual(recent.map((r) => r.type), ["m.1", "m.2", "loop.idle"]);
  assert.equal(recent[2].count, 1);
  assert.equal(recent[2].seq, 5);
});

Deno.test("inspector: crashes seen while recording count as restarts with the last error", () => {
  const inspector = new Inspector(10);
  assert.equal(inspector.crashesOf("worker-2"), undefined);
  inspector.noteCrash("worker-2", new Error("boom"));
  inspector.noteCrash("worker-2", "again");
  assert.deepEqual(inspector.crashesOf("worker-2"), { restarts: 2, lastError: "again" });
});
