/**
 * The per-process accumulator of run statistics: runs of a type are written as
 * one batch per flush, not one write per run; a failing store loses the batch
 * without rejecting; close writes the rest and stops gathering.
 */

import assert from "node:assert/strict";
import { UnavailableError } from "../lib/errors.ts";
import { silentLogger } from "../lib/log.ts";
import { RunStats } from "../lib/tasks/run-stats.ts";
import type { RunSample } from "../lib/store/types.ts";

type Write = { type: string; sample: RunSample; now: number };

function fakeStore(fail = false) {
  const writes: Write[] = [];
  return {
    writes,
    recordRuns(type: string, sample: RunSample, now: number): Promise<void> {
      writes.push({ type, sample, now });
      return fail ? Promise.reject(new UnavailableError("away")) : Promise.resolve();
    },
  };
}

Deno.test("run stats: one write per type per flush, with counts and the mean", async () => {
  const store = fakeStore();
  const stats = new RunStats({ store, log: silentLogger, now: () => 42, flushMs: 60_000 });
  stats.record("a", 10, true);
  stats.record("a", 30, false);
  stats.record("b", 5, true);
  stats.record("a", 20, true);
  assert.equal(stats.pending, 4);
  assert.deepEqual(store.writes, []);
  await stats.flush();
  assert.equal(stats.pending, 0);
  assert.deepEqual(store.writes, [
    { type: "a", sample: { runs: 3, failures: 1, meanMs: 20 }, now: 42 },
    { type: "b", sample: { runs: 1, failures: 0, meanMs: 5 }, now: 42 },
  ]);
  await stats.flush();
  assert.equal(store.writes.length, 2, "nothing new, nothing written");
  await stats.close();
});

Deno.test("run stats: the timer flushes by itself once the interval has passed", async () => {
  const store = fakeStore();
  const stats = new RunStats({ store, log: silentLogger, now: Date.now, flushMs: 20 });
  for (let i = 0; i < 100; i++) stats.record("a", 1, true);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(store.writes.length, 1);
  assert.equal(store.writes[0].sample.runs, 100);
  await stats.close();
});

Deno.test("run stats: a store that is away loses the batch, never rejects", async () => {
  const store = fakeStore(true);
  const stats = new RunStats({ store, log: silentLogger, now: Date.now, flushMs: 60_000 });
  stats.record("a", 1, true);
  await stats.flush();
  assert.equal(store.writes.length, 1);
  assert.equal(stats.pending, 0);
  await stats.close();
});

Deno.test("run stats: close writes what is left and ignores later runs", async () => {
  const store = fakeStore();
  const stats = new RunStats({ store, log: silentLogger, now: Date.now, flushMs: 60_000 });
  stats.record("a", 1, true);
  await stats.close();
  assert.equal(store.writes.length, 1);
  stats.record("a", 1, true);
  assert.equal(stats.pending, 0);
  await stats.flush();
  assert.equal(store.writes.length, 1);
});
