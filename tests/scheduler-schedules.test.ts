/**
 * Schedules managed at run time, on the scheduler's manual clock: one added
 * to the store fires within one tick of its time and records its last run
 * with its task's id; a paused one does not fire, a resumed one fires again
 * (not for the occurrences of its pause); after 10 minutes of downtime (a
 * store whose last run is 10 minutes old) `catchUp: "none"` fires nothing,
 * `"one"` once, `"all"` each missed occurrence up to `catchUpMax`.
 */

import assert from "node:assert/strict";
import { parseSchedule, setSchedulePaused } from "../lib/schedules/manage.ts";
import { addSchedule } from "../lib/schedules/manage.ts";
import { fired, T, withScheduler } from "./helpers/scheduler-harness.ts";

const MINUTE = 60_000;

Deno.test("schedules: one added at run time fires within one tick of its time, and records its run", async () => {
  await withScheduler(
    { tickMs: 1_000 },
    T + 100,
    async ({ clock, store, emitted, sent, start }) => {
      start();
      await clock.advance(2_000);
      const spec = parseSchedule({ id: "beat", every: "5s", task: "noop" });
      await addSchedule(store, [], spec, clock.now());
      await clock.advance(3_000); // T + 5_100: the first multiple of 5 s was T + 5_000
      assert.deepEqual(fired(emitted).map((f) => f.tick), [T + 5_000]);
      assert.ok(fired(emitted)[0].lateMs <= 1_000, "within one tick");
      const enqueued = sent.filter((m) => m.type === "task.enqueue");
      assert.equal(enqueued.length, 1);
      await clock.advance(1);
      const runs = await store.scheduleRuns();
      assert.equal(runs.beat.tick, T + 5_000);
      assert.equal(runs.beat.by, "schedule");
      assert.match(runs.beat.taskId ?? "", /^task-/, "the run names its task");
    },
  );
});

Deno.test("schedules: paused ones do not fire; resumed ones fire again, not for the pause", async () => {
  const schedules = [{ id: "beat", every: "1s", task: "noop" }];
  await withScheduler(
    { tickMs: 1_000, schedules },
    T + 500,
    async ({ clock, store, emitted, start }) => {
      start();
      await clock.advance(1_000); // T + 1_500
      assert.deepEqual(fired(emitted).map((f) => f.tick), [T + 1_000]);
      const config = [parseSchedule(schedules[0])];
      await setSchedulePaused(store, config, "beat", true, clock.now());
      await clock.advance(5_000); // T + 6_500
      assert.deepEqual(fired(emitted).map((f) => f.tick), [T + 1_000], "nothing while paused");
      await setSchedulePaused(store, config, "beat", false, clock.now());
      await clock.advance(2_000); // T + 8_500
      assert.deepEqual(fired(emitted).map((f) => f.tick), [T + 1_000, T + 7_000, T + 8_000]);
    },
  );
});

/** Fires of a one-minute schedule whose last run was 10 minutes before the scheduler starts. */
async function afterDowntime(catchUp: string, catchUpMax = 10): Promise<number[]> {
  let ticks: number[] = [];
  // Starts half a minute after an occurrence: every occurrence up to it was missed.
  await withScheduler({ tickMs: 1_000 }, T + 30_000, async ({ clock, store, emitted, start }) => {
    const spec = parseSchedule({ id: "m", every: "1m", task: "noop", catchUp, catchUpMax });
    await addSchedule(store, [], spec, T - 20 * MINUTE);
    await store.recordScheduleRun("m", {
      tick: T - 10 * MINUTE,
      at: T,
      taskId: "t0",
      by: "schedule",
    });
    start();
    await clock.advance(1_000);
    ticks = fired(emitted).map((f) => f.tick);
    await clock.advance(MINUTE);
    const later = fired(emitted).map((f) => f.tick).slice(ticks.length);
    assert.deepEqual(later, [T + MINUTE], "on time again after the catch-up");
  });
  return ticks;
}

Deno.test("schedules: after 10 minutes of downtime, catchUp none fires nothing", async () => {
  assert.deepEqual(await afterDowntime("none"), []);
});

Deno.test("schedules: after 10 minutes of downtime, catchUp one fires once", async () => {
  assert.deepEqual(await afterDowntime("one"), [T]);
});

Deno.test("schedules: after 10 minutes of downtime, catchUp all fires each missed one up to the bound", async () => {
  const all = await afterDowntime("all", 100);
  assert.deepEqual(all, Array.from({ length: 10 }, (_, i) => T - (9 - i) * MINUTE));
  assert.deepEqual(await afterDowntime("all", 3), [T - 2 * MINUTE, T - MINUTE, T]);
});
