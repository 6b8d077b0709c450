/**
 * Keyed serial queues: the in-process guard that keeps two scans, a poll and a
 * webhook, or two catch-ups of one table from interleaving their
 * read-modify-writes.
 */

import assert from "node:assert/strict";
import { KeyedQueue, SerialQueue } from "../lib/keyed-queue.ts";

function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

Deno.test("jobs of one key run one at a time, in the order they were queued", async () => {
  const queue = new KeyedQueue();
  const log: string[] = [];
  const first = gate();
  const a = queue.run("source", async () => {
    log.push("a start");
    await first.opened;
    log.push("a end");
    return "a";
  });
  const b = queue.run("source", () => {
    log.push("b");
    return "b";
  });
  await Promise.resolve();
  assert.deepEqual(log, ["a start"], "b waits while a runs");
  first.open();
  assert.deepEqual(await Promise.all([a, b]), ["a", "b"]);
  assert.deepEqual(log, ["a start", "a end", "b"]);
});

Deno.test("jobs of different keys do not wait for each other", async () => {
  const queue = new KeyedQueue();
  const held = gate();
  const slow = queue.run("one", () => held.opened);
  assert.equal(await queue.run("two", () => "done"), "done");
  held.open();
  await slow;
});

Deno.test("a failed job fails only its caller; the next job of the key still runs", async () => {
  const queue = new KeyedQueue();
  const failed = queue.run("source", () => Promise.reject(new Error("store down")));
  const next = queue.run("source", () => 2);
  await assert.rejects(failed, /store down/);
  assert.equal(await next, 2);
});

Deno.test("an idle key is forgotten, so sources that come and go do not accumulate", async () => {
  const queue = new KeyedQueue();
  await Promise.all(Array.from({ length: 50 }, (_, i) => queue.run(`source-${i}`, () => i)));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(queue.busyKeys, 0);
});

Deno.test("a serial queue runs its jobs one after the other", async () => {
  const queue = new SerialQueue();
  let running = 0;
  let most = 0;
  const job = async () => {
    most = Math.max(most, ++running);
    await new Promise((resolve) => setTimeout(resolve, 1));
    running--;
  };
  await Promise.all([queue.run(job), queue.run(job), queue.run(job)]);
  assert.equal(most, 1);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(queue.busy, false);
});
