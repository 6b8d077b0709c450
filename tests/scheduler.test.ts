/**
 * The scheduler on a manual clock (its `now` and its XState delays): interval
 * schedules fire once at each multiple of their interval, on time; a delayed
 * task is queued when it is due, not at the next tick; occurrences missed
 * while the store was away are fired late, each once, if at most
 * CATCH_UP_MS old, and skipped if older. The store is a real SqliteStore.
 */

import assert from "node:assert/strict";
import { CATCH_UP_MS } from "../actors/scheduler.ts";
import { fired, T, withScheduler } from "./helpers/scheduler-harness.ts";
import { newTask } from "./store/conformance.ts";

Deno.test("scheduler: an interval schedule fires once at each multiple, on time", async () => {
  const schedules = [{ id: "beat", every: "1s", task: "noop", payload: { n: 1 } }];
  await withScheduler({ schedules }, T + 400, async ({ clock, sent, emitted, start }) => {
    start();
    await clock.advance(599);
    assert.deepEqual(fired(emitted), [], "nothing before the first multiple");
    await clock.advance(1);
    assert.deepEqual(fired(emitted), [{ tick: T + 1_000, lateMs: 0 }]);
    await clock.advance(2_000);
    assert.deepEqual(fired(emitted).map((f) => [f.tick - T, f.lateMs]), [
      [1_000, 0],
      [2_000, 0],
      [3_000, 0],
    ]);
    const enqueued = sent.flatMap((m) => m.type === "task.enqueue" ? [m.request] : []);
    assert.deepEqual(enqueued.map((r) => [r.type, r.payload, r.correlationId]), [
      ["noop", { n: 1, schedule: "beat", tick: T + 1_000 }, `schedule:beat:${T + 1_000}`],
      ["noop", { n: 1, schedule: "beat", tick: T + 2_000 }, `schedule:beat:${T + 2_000}`],
      ["noop", { n: 1, schedule: "beat", tick: T + 3_000 }, `schedule:beat:${T + 3_000}`],
    ]);
  });
});

Deno.test("scheduler: a delayed task is queued when it is due, not at the next tick", async () => {
  await withScheduler({ tickMs: 60_000 }, T, async ({ clock, store, sent, start }) => {
    const { task } = await store.enqueue(newTask({ runAt: T + 1_500, createdAt: T }), T);
    assert.equal(task.state, "scheduled");
    start();
    await clock.advance(1_499);
    assert.deepEqual(sent, []);
    await clock.advance(1);
    assert.deepEqual(sent, [{ type: "task.ready", count: 1 }]);
    assert.equal((await store.getTask(task.id))?.state, "queued");
  });
});

Deno.test("scheduler: occurrences missed in an outage fire late, each once, if at most CATCH_UP_MS old", async () => {
  const schedules = [{ id: "beat", every: "10s", task: "noop" }];
  await withScheduler(
    { tickMs: 1_000, schedules },
    T + 1,
    async ({ clock, emitted, setDown, start }) => {
      setDown(true);
      start();
      await clock.advance(35_000);
      assert.deepEqual(fired(emitted), [], "nothing fires while the store is away");
      setDown(false);
      await clock.advance(1_000);
      const short = fired(emitted);
      assert.deepEqual(
        short.map((f) => f.tick - T),
        [10_000, 20_000, 30_000],
        "a short outage loses nothing",
      );
      assert.ok(short.every((f) => f.lateMs > 0 && f.lateMs <= CATCH_UP_MS));

      emitted.length = 0;
      setDown(true);
      await clock.advance(100_000);
      setDown(false);
      await clock.advance(1_000);
      const long = fired(emitted);
      const at = long[0].tick + long[0].lateMs; // the time of the tick that fired them
      const missed = [];
      for (let tick = T + 40_000; tick <= at; tick += 10_000) missed.push(tick);
      const young = missed.filter((tick) => at - tick <= CATCH_UP_MS);
      assert.ok(young.length < missed.length, "the outage outlasted CATCH_UP_MS");
      assert.deepEqual(long.map((f) => f.tick), young, "only the occurrences still young enough");
      await clock.advance(30_000);
      const ticks = fired(emitted).map((f) => f.tick);
      assert.equal(new Set(ticks).size, ticks.length, "no occurrence fires twice");
    },
  );
});
