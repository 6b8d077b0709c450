/**
 * The sort key: ordering decided at enqueue time, as one number the store can
 * claim by atomically (lowest first).
 *
 *     sortKey = enqueuedAt − priority·priorityStepMs − scoreMs − urgencyMs
 *
 * Aging comes for free: a task that has waited longer has an older
 * `enqueuedAt`, so it overtakes newer tasks steadily without re-sorting; one
 * priority level is worth `priorityStepMs` of waiting. `scoreMs` is a learned
 * bonus (types that run fast and succeed go a little earlier: shortest job
 * first, tempered), `urgencyMs` grows as a deadline nears (the prioritizer
 * re-scores tasks inside the deadline window).
 */

import type { ScoreExplanation } from "./tasks.ts";
import type { TypeStats } from "./store/types.ts";

/** Prioritizer settings (`prioritizer` in the config). */
export interface PriorityOptions {
  priorityStepMs: number;
  deadlineWindowMs: number;
  learn: boolean;
}

/** What the key is computed from. */
export interface ScoreInput {
  priority: number;
  enqueuedAt: number;
  deadline: number | null;
  stats: TypeStats | null;
  now: number;
}

/** Learned score needs this many runs of a type before it counts. */
const MIN_RUNS = 5;
/** The learned bonus is at most half a priority level: it orders within a level, never across two. */
const MAX_SCORE_LEVELS = 0.5;
/** A task at its deadline counts as this many priority levels more. */
const URGENCY_LEVELS = 10;

/**
 * Computes a task's sort key, learned score and the explanation stored with it.
 *
 * @example
 * ```ts
 * const s = scoreTask(
 *   { priority: 9, enqueuedAt: 1_000_000, deadline: null, stats: null, now: 1_000_000 },
 *   { priorityStepMs: 60_000, deadlineWindowMs: 60_000, learn: true },
 * );
 * s.sortKey; // 1_000_000 - 9 * 60_000 = 460_000
 * ```
 */
export function scoreTask(
  input: ScoreInput,
  options: PriorityOptions,
): { sortKey: number; score: number; explanation: ScoreExplanation } {
  const step = options.priorityStepMs;
  const notes = [
    `priority ${input.priority} counts as ${input.priority * step}ms of waiting`,
  ];
  let score = 0;
  const stats = input.stats;
  if (options.learn && stats && stats.runs >= MIN_RUNS) {
    const successRate = 1 - stats.failures / stats.runs;
    const speed = 1_000 / (1_000 + stats.avgMs);
    score = Math.round(MAX_SCORE_LEVELS * successRate * speed * 1_000) / 1_000;
    notes.push(
      `type ${stats.type}: ${stats.runs} runs, ${Math.round(successRate * 100)}% succeeded, ~${
        Math.round(stats.avgMs)
      }ms each: learned score ${score} (of ${MAX_SCORE_LEVELS} levels)`,
    );
  }
  const scoreMs = Math.round(score * step);
  let urgencyMs = 0;
  if (input.deadline !== null) {
    const remaining = input.deadline - input.now;
    if (remaining <= options.deadlineWindowMs) {
      const closeness = options.deadlineWindowMs === 0
        ? 1
        : 1 - Math.max(0, remaining) / options.deadlineWindowMs;
      urgencyMs = Math.round(URGENCY_LEVELS * step * closeness);
      notes.push(
        `deadline in ${
          Math.max(0, remaining)
        }ms (window ${options.deadlineWindowMs}ms): +${urgencyMs}ms urgency`,
      );
    } else {
      notes.push(`deadline in ${remaining}ms: not urgent yet`);
    }
  }
  const sortKey = input.enqueuedAt - input.priority * step - scoreMs - urgencyMs;
  notes.push(`enqueued at ${new Date(input.enqueuedAt).toISOString()}; lower sortKey runs first`);
  return {
    sortKey,
    score,
    explanation: {
      formula: "sortKey = enqueuedAt - priority*priorityStepMs - scoreMs - urgencyMs",
      priority: input.priority,
      priorityStepMs: step,
      scoreMs,
      urgencyMs,
      enqueuedAt: input.enqueuedAt,
      sortKey,
      notes,
    },
  };
}
