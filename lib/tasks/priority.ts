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

import type { TypeStats } from "../store/types.ts";
import type { ScoreExplanation, Task } from "./task.ts";

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

const FORMULA = "sortKey = enqueuedAt - priority*priorityStepMs - scoreMs - urgencyMs";

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
  let score = 0;
  let learned: ScoreExplanation["learned"];
  const stats = input.stats;
  if (options.learn && stats && stats.runs >= MIN_RUNS) {
    const successRate = 1 - stats.failures / stats.runs;
    const speed = 1_000 / (1_000 + stats.avgMs);
    score = Math.round(MAX_SCORE_LEVELS * successRate * speed * 1_000) / 1_000;
    learned = {
      type: stats.type,
      runs: stats.runs,
      successRate: Math.round(successRate * 1_000) / 1_000,
      avgMs: Math.round(stats.avgMs),
    };
  }
  const scoreMs = Math.round(score * step);
  let urgencyMs = 0;
  let deadline: ScoreExplanation["deadline"];
  if (input.deadline !== null) {
    const remaining = input.deadline - input.now;
    deadline = { inMs: remaining, windowMs: options.deadlineWindowMs };
    if (remaining <= options.deadlineWindowMs) {
      const closeness = options.deadlineWindowMs === 0
        ? 1
        : 1 - Math.max(0, remaining) / options.deadlineWindowMs;
      urgencyMs = Math.round(URGENCY_LEVELS * step * closeness);
    }
  }
  const sortKey = input.enqueuedAt - input.priority * step - scoreMs - urgencyMs;
  const explanation: ScoreExplanation = {
    priority: input.priority,
    priorityStepMs: step,
    scoreMs,
    urgencyMs,
    enqueuedAt: input.enqueuedAt,
    sortKey,
  };
  if (learned) explanation.learned = learned;
  if (deadline) explanation.deadline = deadline;
  return { sortKey, score, explanation };
}

/**
 * The explanation in words: the formula and one sentence per term.
 */
export function describeScore(e: ScoreExplanation): { formula: string; notes: string[] } {
  const notes = [`priority ${e.priority} counts as ${e.priority * e.priorityStepMs}ms of waiting`];
  if (e.learned) {
    notes.push(
      `type ${e.learned.type}: ${e.learned.runs} runs, ${
        Math.round(e.learned.successRate * 100)
      }% succeeded, ~${e.learned.avgMs}ms each: learned bonus ${e.scoreMs}ms (at most ${MAX_SCORE_LEVELS} of a level)`,
    );
  }
  if (e.deadline) {
    notes.push(
      e.urgencyMs > 0
        ? `deadline in ${
          Math.max(0, e.deadline.inMs)
        }ms (window ${e.deadline.windowMs}ms): +${e.urgencyMs}ms urgency`
        : `deadline in ${e.deadline.inMs}ms: not urgent yet`,
    );
  }
  notes.push(`enqueued at ${new Date(e.enqueuedAt).toISOString()}; lower sortKey runs first`);
  return { formula: FORMULA, notes };
}

/**
 * Why a task cannot run on any live worker for want of resources (see
 * lib/safety/resource-fit.ts).
 */
export interface ResourceWait {
  message: string;
  /** Each resource asked for beyond what any live worker has (empty when none has all at once). */
  missing: { resource: string; needs: number; most: number }[];
}

/** A task as `GET /un/tasks/:id` shows it. */
export type ExplainedTask = Task & {
  explanation: ScoreExplanation & { resources?: ResourceWait };
};

/**
 * The task with its explanation in words, as `GET /un/tasks/:id` shows it;
 * with a {@link ResourceWait}, the first note says what it waits for.
 */
export function explainTask(task: Task, wait: ResourceWait | null = null): ExplainedTask {
  const described = describeScore(task.explanation);
  if (wait === null) return { ...task, explanation: { ...task.explanation, ...described } };
  const notes = [`waits for resources: ${wait.message}`, ...described.notes];
  return {
    ...task,
    explanation: { ...task.explanation, ...described, notes, resources: wait },
  };
}
