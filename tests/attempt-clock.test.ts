/**
 * The shared attempt timer: entries fire when due (each at its own time, again
 * at the time they return), deleted ones never fire, and no timer is left once
 * every entry is gone (the test sanitizer checks that).
 */

import assert from "node:assert/strict";
import { AttemptClock, type ClockEntry } from "../lib/tasks/attempt-clock.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("attempt clock: entries fire at their own due times; a deleted one never does", async () => {
  const clock = new AttemptClock();
  const fired: string[] = [];
  const t0 = performance.now();
  const entry = (name: string, after: number): ClockEntry => ({
    due: t0 + after,
    fire: (now) => {
      assert.ok(now >= t0 + after, `${name} fired early`);
      fired.push(name);
      return Infinity;
    },
  });
  const late = entry("late", 60);
  const early = entry("early", 20);
  const gone = entry("gone", 10);
  clock.add(late);
  clock.add(early);
  clock.add(gone);
  clock.delete(gone);
  await sleep(40);
  assert.deepEqual(fired, ["early"]);
  await sleep(50);
  assert.deepEqual(fired, ["early", "late"]);
  clock.delete(early);
  clock.delete(late);
  assert.equal(clock.size, 0);
});

Deno.test("attempt clock: an entry fires again at the time it returns", async () => {
  const clock = new AttemptClock();
  let count = 0;
  const repeating: ClockEntry = {
    due: performance.now() + 10,
    fire: (now) => ++count < 3 ? now + 10 : Infinity,
  };
  clock.add(repeating);
  await sleep(80);
  assert.equal(count, 3);
  clock.delete(repeating);
});

Deno.test("attempt clock: one entry's throwing callback does not stop the others", async () => {
  const clock = new AttemptClock();
  let fired = false;
  const bad: ClockEntry = {
    due: performance.now() + 5,
    fire: () => {
      throw new Error("boom");
    },
  };
  const good: ClockEntry = { due: performance.now() + 5, fire: () => ((fired = true), Infinity) };
  clock.add(bad);
  clock.add(good);
  await sleep(30);
  assert.ok(fired);
  clock.delete(bad);
  clock.delete(good);
});
