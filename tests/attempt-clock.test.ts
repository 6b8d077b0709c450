/**
 * The shared attempt timer, on a manual clock: entries fire exactly when due
 * (each at its own time, again at the time they return), deleted ones never
 * fire, a throwing callback stops no other, and no timer is left once every
 * entry is gone.
 *
 * The attempt clock reads `performance.now()` and the global timers itself,
 * so the manual clock stands in for those while a test runs.
 */

import assert from "node:assert/strict";
import { AttemptClock, type ClockEntry } from "../lib/tasks/attempt-clock.ts";
import { ManualClock } from "./helpers/manual-clock.ts";

Deno.test("attempt clock: entries fire at their own due times; a deleted one never does", async () => {
  const manual = new ManualClock();
  using _ = manual.installGlobally();
  const clock = new AttemptClock();
  const fired: [string, number][] = [];
  const entry = (name: string, due: number): ClockEntry => ({
    due,
    fire: (now) => (fired.push([name, now]), Infinity),
  });
  const late = entry("late", 60);
  const early = entry("early", 20);
  const gone = entry("gone", 10);
  clock.add(late);
  clock.add(early);
  clock.add(gone);
  clock.delete(gone);
  await manual.advance(19);
  assert.deepEqual(fired, []);
  await manual.advance(1);
  assert.deepEqual(fired, [["early", 20]]);
  await manual.advance(39);
  assert.deepEqual(fired, [["early", 20]]);
  await manual.advance(1);
  assert.deepEqual(fired, [["early", 20], ["late", 60]]);
  clock.delete(early);
  clock.delete(late);
  assert.equal(clock.size, 0);
  assert.equal(manual.pending, 0, "no timer once every entry is gone");
});

Deno.test("attempt clock: an entry fires again at the time it returns", async () => {
  const manual = new ManualClock();
  using _ = manual.installGlobally();
  const clock = new AttemptClock();
  const times: number[] = [];
  const repeating: ClockEntry = {
    due: 10,
    fire: (now) => (times.push(now), times.length < 3 ? now + 10 : Infinity),
  };
  clock.add(repeating);
  await manual.advance(1_000);
  assert.deepEqual(times, [10, 20, 30]);
  assert.equal(manual.pending, 0, "nothing more is due: the timer is not re-armed");
  clock.delete(repeating);
});

Deno.test("attempt clock: one entry's throwing callback does not stop the others", async () => {
  const manual = new ManualClock();
  using _ = manual.installGlobally();
  const clock = new AttemptClock();
  let fired = 0;
  let failed = 0;
  const bad: ClockEntry = {
    due: 5,
    fire: () => {
      failed++;
      throw new Error("boom");
    },
  };
  const good: ClockEntry = { due: 5, fire: (now) => (fired++, now + 5) };
  clock.add(bad);
  clock.add(good);
  await manual.advance(5);
  assert.equal(fired, 1);
  await manual.advance(5);
  assert.equal(fired, 2, "the good entry keeps its schedule");
  assert.equal(failed, 1, "the throwing one is not called again");
  clock.delete(bad);
  clock.delete(good);
  assert.equal(manual.pending, 0);
});
