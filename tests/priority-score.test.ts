/**
 * The prioritizer's score, without a runtime: how priority, waiting, learned
 * run statistics and a near deadline order tasks, what the explanation on
 * `GET /un/tasks/:id` says, and which priorities are accepted.
 */

import assert from "node:assert/strict";
import { describeScore, scoreTask } from "../lib/tasks/priority.ts";
import { checkTaskPriority, taskPriority } from "../lib/tasks/task.ts";
import { ValidationError } from "../lib/errors.ts";

const OPTIONS = { priorityStepMs: 60_000, deadlineWindowMs: 60_000, learn: true };
const NOW = 1_700_000_000_000;

function key(input: Partial<Parameters<typeof scoreTask>[0]>, options = OPTIONS): number {
  return scoreTask(
    { priority: 5, enqueuedAt: NOW, deadline: null, stats: null, now: NOW, ...input },
    options,
  ).sortKey;
}

function stats(runs: number, failures: number, avgMs: number) {
  return { type: "resize", runs, failures, avgMs, updatedAt: NOW };
}

Deno.test("a higher priority sorts first; one level is worth priorityStepMs of waiting", () => {
  assert.ok(key({ priority: 9 }) < key({ priority: 1 }));
  assert.equal(key({ priority: 9 }), NOW - 9 * 60_000);
  // A priority 1 task that has waited 8 steps ties with a fresh priority 9 one (aging).
  assert.equal(key({ priority: 1, enqueuedAt: NOW - 8 * 60_000 }), key({ priority: 9 }));
});

Deno.test("learned runs move a fast, reliable type ahead within its level, never across one", () => {
  const plain = key({ stats: null });
  const fast = key({ stats: stats(100, 0, 0) });
  const slowFlaky = key({ stats: stats(100, 50, 10_000) });
  assert.ok(fast < slowFlaky && slowFlaky < plain);
  assert.equal(plain - fast, 30_000, "at most half a level");
  assert.ok(fast > key({ priority: 6 }), "a level up still wins");
});

Deno.test("too few runs, or learning off, earns no bonus", () => {
  assert.equal(key({ stats: stats(4, 0, 0) }), key({}));
  assert.equal(key({ stats: stats(100, 0, 0) }, { ...OPTIONS, learn: false }), key({}));
});

Deno.test("urgency grows as the deadline nears and is worth ten levels at the deadline", () => {
  const far = key({ deadline: NOW + 10 * 60_000 });
  const half = key({ deadline: NOW + 30_000 });
  const due = key({ deadline: NOW });
  const late = key({ deadline: NOW - 5_000 });
  assert.equal(far, key({}), "outside the window: no urgency");
  assert.equal(key({}) - half, 300_000);
  assert.equal(key({}) - due, 600_000);
  assert.equal(late, due, "past the deadline counts as at it");
  assert.equal(
    key({ deadline: NOW + 1 }, { ...OPTIONS, deadlineWindowMs: 0 }),
    key({}),
    "a zero window never makes a task urgent before its deadline",
  );
});

Deno.test("the explanation names every term in words", () => {
  const { explanation } = scoreTask(
    { priority: 9, enqueuedAt: NOW, deadline: NOW + 30_000, stats: stats(10, 1, 1_000), now: NOW },
    OPTIONS,
  );
  const { formula, notes } = describeScore(explanation);
  assert.equal(formula, "sortKey = enqueuedAt - priority*priorityStepMs - scoreMs - urgencyMs");
  assert.deepEqual(notes, [
    "priority 9 counts as 540000ms of waiting",
    "type resize: 10 runs, 90% succeeded, ~1000ms each: learned bonus 13500ms (at most 0.5 of a level)",
    "deadline in 30000ms (window 60000ms): +300000ms urgency",
    `enqueued at ${new Date(NOW).toISOString()}; lower sortKey runs first`,
  ]);
});

Deno.test("priorities are integers 0..9 wherever they come from", () => {
  for (const ok of [0, 5, 9]) assert.equal(checkTaskPriority(ok), ok);
  for (const bad of [-1, 10, 4.5, "9", null]) {
    assert.throws(
      () => checkTaskPriority(bad),
      (error: unknown) =>
        error instanceof ValidationError &&
        error.message === `priority must be an integer 0..9, got ${JSON.stringify(bad)}`,
    );
    assert.equal(taskPriority.safeParse(bad).success, false);
  }
});
