/**
 * The prioritizer's score, without a runtime: how priority, waiting, learned
 * run statistics and a near deadline order tasks, what the explanation on
 * `GET /un/tasks/:id` says, and which priorities are accepted.
 */

import assert from "node:assert/strict";
import { describeScore, scoreTask, sortKeyTerms } from "../lib/tasks/priority.ts";
import { modelAfter, type TypeStats } from "../lib/store/types.ts";
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

function stats(runs: number, failures: number, avgMs: number, type = "resize"): TypeStats {
  const model = modelAfter(null, NOW, { runs, failures, meanMs: avgMs }, NOW);
  return { type, runs, failures, avgMs, updatedAt: NOW, model };
}

/** The fleet: 500 runs, 10 % failed, ~200 ms. */
const FLEET = stats(500, 50, 200, "*");

Deno.test("a higher priority sorts first; one level is worth priorityStepMs of waiting", () => {
  assert.ok(key({ priority: 9 }) < key({ priority: 1 }));
  assert.equal(key({ priority: 9 }), NOW - 9 * 60_000);
  // A priority 1 task that has waited 8 steps ties with a fresh priority 9 one (aging).
  assert.equal(key({ priority: 1, enqueuedAt: NOW - 8 * 60_000 }), key({ priority: 9 }));
});

Deno.test("learned runs move a fast, reliable type ahead within its level, never across one", () => {
  const plain = key({ stats: null, pooled: null });
  const fresh = key({ stats: null, pooled: FLEET, key: "new" });
  const fast = key({ stats: stats(50, 0, 20), pooled: FLEET });
  const slowFlaky = key({ stats: stats(50, 15, 600), pooled: FLEET });
  assert.ok(fast < fresh && fresh < slowFlaky && slowFlaky < plain, "fast, new, slow+flaky, none");
  assert.equal(plain - fresh, 15_000, "a new type: the fleet's average, half the bound");
  assert.ok(plain - fast < 30_000, "at most half a level");
  assert.ok(fast > key({ priority: 6 }), "a level up still wins");
});

Deno.test("a priority-9 task runs before a learned-favourite priority-5 one unless learnWeight says otherwise", () => {
  const favourite = { priority: 5, stats: stats(1_000, 0, 1), pooled: FLEET };
  const urgent = { priority: 9, stats: stats(50, 25, 5_000, "slow"), pooled: FLEET };
  assert.ok(key(urgent) < key(favourite));
  const bold = { ...OPTIONS, learnWeight: 8 };
  assert.ok(key(favourite, bold) < key(urgent, bold), "learnWeight 8 lets learning cross levels");
});

Deno.test("learning off, or nothing learned yet, earns no bonus", () => {
  assert.equal(key({ stats: stats(100, 0, 1) }), key({}), "no fleet statistics yet");
  assert.equal(
    key({ stats: stats(100, 0, 0), pooled: FLEET }, { ...OPTIONS, learn: false }),
    key({}),
  );
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

Deno.test("the explanation names every term in words, the learned figures with their interval", () => {
  const { explanation } = scoreTask(
    {
      priority: 9,
      enqueuedAt: NOW,
      deadline: NOW + 30_000,
      stats: stats(52, 2, 1_200, "embed:.md"),
      pooled: FLEET,
      now: NOW,
    },
    OPTIONS,
  );
  const { formula, notes } = describeScore(explanation);
  assert.equal(formula, "sortKey = enqueuedAt - priority*priorityStepMs - scoreMs - urgencyMs");
  const learned = explanation.learned!;
  assert.equal(learned.key, "embed:.md");
  assert.equal(learned.runs, 52);
  assert.ok(
    learned.successInterval[0] < learned.success && learned.success < learned.successInterval[1],
  );
  assert.ok(learned.medianInterval[0] < 1_200 && 1_200 < learned.medianInterval[1]);
  assert.equal(notes[0], "priority 9 counts as 540000ms of waiting");
  assert.match(
    notes[1],
    /^embed:\.md succeeds 9\d % \(\d\d–\d\d %\) in 52 runs, median 1\.\d s \(1\.\d s–1\.\d s\): [\d.]+ successes\/s against the fleet's [\d.]+: learned bonus \d+ms \(at most 0\.5 of a level\)$/,
  );
  assert.deepEqual(notes.slice(2), [
    "deadline in 30000ms (window 60000ms): +300000ms urgency",
    `enqueued at ${new Date(NOW).toISOString()}; lower sortKey runs first`,
  ]);
  const terms = sortKeyTerms(explanation);
  assert.deepEqual(terms.map((t) => t.kind), ["enqueued", "priority", "learned", "deadline"]);
  const sum = terms.reduce((key, t) => t.kind === "enqueued" ? key : key - t.ms, NOW);
  assert.equal(sum, explanation.sortKey, "the terms add up to the key");
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
