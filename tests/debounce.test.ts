/**
 * The per-key debouncer behind file events, on a manual clock: a path is
 * reported `waitMs` after its last change, but at the latest `maxWaitMs` after
 * its first (a file written continuously is still reported), with the changes
 * in between merged; many paths share one timer; close drops what waits.
 */

import assert from "node:assert/strict";
import { Debouncer } from "../lib/fs/debounce.ts";
import { ManualClock } from "./helpers/manual-clock.ts";

function debouncer(waitMs: number, maxWaitMs: number) {
  const clock = new ManualClock();
  const start = clock.now();
  const flushes: { at: number; batch: [string, number][] }[] = [];
  const d = new Debouncer<number>({
    waitMs,
    maxWaitMs,
    merge: (a, b) => a + b,
    onFlush: (batch) => flushes.push({ at: clock.now() - start, batch: [...batch] }),
    clock,
  });
  return { d, clock, flushes };
}

Deno.test("debounce: a key is flushed waitMs after its last touch, its touches merged", async () => {
  const { d, clock, flushes } = debouncer(50, 1_000);
  d.add("a.txt", 1);
  await clock.advance(30);
  d.add("a.txt", 2); // moves the flush to 30 + 50
  await clock.advance(49);
  assert.deepEqual(flushes, [], "79 ms: the last touch is 49 ms old");
  await clock.advance(1);
  assert.deepEqual(flushes, [{ at: 80, batch: [["a.txt", 3]] }]);
  assert.equal(d.size, 0);
  assert.equal(clock.pending, 0, "no timer left once nothing waits");
});

Deno.test("debounce: a key touched without pause is flushed maxWaitMs after its first touch", async () => {
  const { d, clock, flushes } = debouncer(50, 200);
  for (let t = 0; t < 300; t += 20) {
    d.add("busy.log", 1);
    await clock.advance(20);
  }
  // Touched at 0, 20, …, 180 before the ceiling: 10 touches flushed at 200;
  // the touches from 200 on start a new window, flushed at 400.
  assert.deepEqual(flushes, [{ at: 200, batch: [["busy.log", 10]] }]);
  await clock.advance(100);
  assert.deepEqual(flushes[1], { at: 330, batch: [["busy.log", 5]] });
});

Deno.test("debounce: keys come due on their own; one timer serves them all", async () => {
  const { d, clock, flushes } = debouncer(50, 1_000);
  for (let i = 0; i < 1_000; i++) d.add(`f${i}`, 1);
  assert.equal(clock.pending, 1, "a burst of 1 000 keys arms one timer");
  await clock.advance(20);
  d.add("late", 1);
  d.add("f0", 1); // f0 now waits until 70
  await clock.advance(30);
  assert.equal(flushes.length, 1);
  assert.equal(flushes[0].at, 50);
  assert.equal(flushes[0].batch.length, 999, "every key due at 50 in one batch");
  assert.ok(!flushes[0].batch.some(([key]) => key === "f0" || key === "late"));
  await clock.advance(20);
  assert.deepEqual(flushes[1], { at: 70, batch: [["f0", 2], ["late", 1]] });
});

Deno.test("debounce: close drops what waits, and later touches are ignored", async () => {
  const { d, clock, flushes } = debouncer(50, 1_000);
  d.add("a", 1);
  d.close();
  assert.equal(d.size, 0);
  assert.equal(clock.pending, 0, "the timer is cleared");
  d.add("b", 1);
  await clock.advance(5_000);
  assert.deepEqual(flushes, []);
});
