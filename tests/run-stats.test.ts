/**
 * The per-process accumulator of run statistics: runs of a type are written as
 * one batch per flush, not one write per run; a failing store loses the batch
 * without rejecting; close writes the rest and stops gathering.
 */

import assert from "node:assert/strict";
import { UnavailableError } from "../lib/errors.ts";
import { silentLogger } from "../lib/log.ts";
import { RUN_STATS_FLUSH_MS, RunStats } from "../lib/tasks/run-stats.ts";
import type { RunSample } from "../lib/store/types.ts";
import { FLEET_KEY } from "../lib/tasks/learn/model.ts";
import { ManualClock } from "./helpers/manual-clock.ts";

type Write = { type: string; sample: RunSample; now: number };

/**
 * A store whose writes succeed, fail (`"away"`) or never answer (`"hung"`);
 * `writes` holds those of task types, `fleet` those of the pooled key.
 */
function fakeStore(answer: "ok" | "away" | "hung" = "ok") {
  const writes: Write[] = [];
  const fleet: Write[] = [];
  return {
    writes,
    fleet,
    recordRuns(type: string, sample: RunSample, now: number): Promise<void> {
      (type === FLEET_KEY ? fleet : writes).push({ type, sample, now });
      if (answer === "hung") return new Promise(() => {});
      return answer === "away" ? Promise.reject(new UnavailableError("away")) : Promise.resolve();
    },
  };
}

function warnings() {
  const said: string[] = [];
  const log = { ...silentLogger, warn: (message: string) => void said.push(message) };
  return { said, log };
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
  const ln = Math.log;
  assert.deepEqual(store.writes, [
    {
      type: "a",
      sample: {
        runs: 3,
        failures: 1,
        meanMs: 20,
        logSum: ln(10) + ln(30) + ln(20),
        logSqSum: ln(10) ** 2 + ln(30) ** 2 + ln(20) ** 2,
      },
      now: 42,
    },
    {
      type: "b",
      sample: { runs: 1, failures: 0, meanMs: 5, logSum: ln(5), logSqSum: ln(5) ** 2 },
      now: 42,
    },
  ]);
  assert.deepEqual(
    store.fleet.map((w) => [w.sample.runs, w.sample.failures, w.sample.meanMs]),
    [[4, 1, 16.25]],
    "every run also counts for the fleet, the prior's pool",
  );
  await stats.flush();
  assert.equal(store.writes.length, 2, "nothing new, nothing written");
  await stats.close();
});

Deno.test("run stats: with scoreBy, runs count under the rendered key; halfLife goes with each write", async () => {
  const store = fakeStore();
  const stats = new RunStats({
    store,
    log: silentLogger,
    now: () => 42,
    flushMs: 60_000,
    learn: { scoreBy: "{type}:{payload.ext}", halfLife: 3_600_000 },
  });
  stats.record("embed", 10, true, { ext: ".md" });
  stats.record("embed", 10, true, { ext: ".pdf" });
  stats.record("embed", 10, false, { ext: ".md" });
  await stats.flush();
  assert.deepEqual(
    store.writes.map((w) => [w.type, w.sample.runs, w.sample.failures, w.sample.halfLifeMs]),
    [["embed:.md", 2, 1, 3_600_000], ["embed:.pdf", 1, 0, 3_600_000]],
  );
  assert.equal(store.fleet[0].sample.runs, 3);
  await stats.close();
});

Deno.test("run stats: the timer flushes by itself once the interval has passed", async () => {
  const store = fakeStore();
  const clock = new ManualClock();
  const stats = new RunStats({ store, log: silentLogger, clock });
  assert.equal(clock.pending, 0, "no timer before the first run");
  for (let i = 0; i < 100; i++) stats.record("a", 1, true);
  assert.equal(clock.pending, 1, "one timer for the whole batch");
  await clock.advance(RUN_STATS_FLUSH_MS - 1);
  assert.equal(store.writes.length, 0, "nothing written before the interval");
  await clock.advance(1);
  assert.equal(store.writes.length, 1);
  assert.equal(store.writes[0].sample.runs, 100);
  assert.equal(store.writes[0].now, clock.now(), "written with the time of the flush");
  assert.equal(clock.pending, 0, "an idle accumulator keeps no timer");
  stats.record("a", 1, true);
  await clock.advance(RUN_STATS_FLUSH_MS);
  assert.equal(store.writes.length, 2, "the next run arms the timer again");
  await stats.close();
});

Deno.test("run stats: a store that is away loses the batch, never rejects", async () => {
  const store = fakeStore("away");
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

Deno.test("run stats: close waits at most its timeout for a store that does not answer", async () => {
  const store = fakeStore("hung");
  const clock = new ManualClock();
  const { said, log } = warnings();
  const stats = new RunStats({ store, log, clock, flushMs: 60_000 });
  stats.record("a", 1, true);
  let closed = false;
  const closing = stats.close(2_000).then(() => (closed = true));
  await clock.advance(1_999);
  assert.equal(closed, false, "still waiting for the store");
  await clock.advance(1);
  await closing;
  assert.equal(store.writes.length, 1);
  assert.deepEqual(said, ["run statistics still being written at shutdown; left behind"]);
});
