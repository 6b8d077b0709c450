/**
 * The sort key: ordering decided at enqueue time, as one number the store can
 * claim by atomically (lowest first).
 *
 *     sortKey = enqueuedAt − priority·priorityStepMs − scoreMs − urgencyMs
 *
 * Aging comes for free: a task that has waited longer has an older
 * `enqueuedAt`, so it overtakes newer tasks steadily without re-sorting; one
 * priority level is worth `priorityStepMs` of waiting. `scoreMs` is a learned
 * bonus (types with the most expected successes per second go earlier:
 * weighted shortest job first, bounded by `learnWeight`), `urgencyMs` grows as a deadline nears (the prioritizer
 * re-scores tasks inside the deadline window).
 */

import type { TypeStats } from "../store/types.ts";
import { learnedFigures, scoreLevels } from "./learn/model.ts";
import type { LearnedTerm, ScoreExplanation, SortKeyTerm, Task } from "./task.ts";

/** Prioritizer settings (`prioritizer` in the config). */
export interface PriorityOptions {
  priorityStepMs: number;
  deadlineWindowMs: number;
  learn: boolean;
  /** The most the learned bonus is worth, in levels (default {@link DEFAULT_LEARN_WEIGHT}). */
  learnWeight?: number;
  /** Forgetting half-life of the learned statistics, ms (default one hour). */
  halfLife?: number;
}

/** What the key is computed from. */
export interface ScoreInput {
  priority: number;
  enqueuedAt: number;
  deadline: number | null;
  /** The learned statistics of the task's type (or `scoreBy` key); null before its first run. */
  stats: TypeStats | null;
  /**
   * The fleet's pooled statistics (every type), the prior; without them
   * nothing has been learned yet and there is no learned term.
   */
  pooled?: TypeStats | null;
  /** The key learned under (default: `stats.type`). */
  key?: string;
  now: number;
}

/** The learned bonus is at most half a priority level by default: it orders within a level. */
export const DEFAULT_LEARN_WEIGHT = 0.5;
/** Default forgetting half-life: one hour. */
const DEFAULT_HALF_LIFE_MS = 3_600_000;
/** A task at its deadline counts as this many priority levels more. */
const URGENCY_LEVELS = 10;

const FORMULA = "sortKey = enqueuedAt - priority*priorityStepMs - scoreMs - urgencyMs";

/** Rounds to `digits` significant digits (stored figures stay short: row size matters). */
function sig(x: number, digits = 3): number {
  return Number.isFinite(x) ? Number(x.toPrecision(digits)) : x;
}

/** The learned term of a task, or undefined when nothing has been learned. */
function learnedTerm(input: ScoreInput, options: PriorityOptions): LearnedTerm | undefined {
  if (!options.learn || !input.pooled) return undefined;
  const halfLife = options.halfLife ?? DEFAULT_HALF_LIFE_MS;
  const maxLevels = options.learnWeight ?? DEFAULT_LEARN_WEIGHT;
  const key = input.key ?? input.stats?.type ?? "?";
  const own = learnedFigures(key, input.stats, input.pooled, input.now, halfLife);
  const prior = learnedFigures(key, null, input.pooled, input.now, halfLife);
  const round = (x: number) => Math.round(x * 1_000) / 1_000;
  return {
    key,
    runs: Math.round(own.runs * 10) / 10,
    success: round(own.success),
    successInterval: [round(own.successInterval[0]), round(own.successInterval[1])],
    medianMs: sig(own.medianMs),
    medianInterval: [sig(own.medianInterval[0]), sig(own.medianInterval[1])],
    meanMs: sig(own.meanMs),
    perSecond: sig(own.perSecond),
    pooledPerSecond: sig(prior.perSecond),
    levels: round(scoreLevels(own, prior, maxLevels)),
    maxLevels,
  };
}

/**
 * Computes a task's sort key, learned score and the explanation stored with it.
 *
 * The learned score is weighted shortest job first: P(success) / E[run time]
 * from the task type's posterior (lib/tasks/learn/), relative to the fleet's
 * pooled prior, mapped into 0..`learnWeight` levels (see `scoreLevels`).
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
  const learned = learnedTerm(input, options);
  const score = learned?.levels ?? 0;
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
 * The sort key term by term, from the numbers stored with the task. A task
 * scored before the learned model keeps its bonus as a bare `learned` term.
 */
export function sortKeyTerms(e: ScoreExplanation): SortKeyTerm[] {
  const terms: SortKeyTerm[] = [
    { kind: "enqueued", at: e.enqueuedAt },
    { kind: "priority", priority: e.priority, ms: e.priority * e.priorityStepMs },
  ];
  if (e.learned && "success" in e.learned) {
    terms.push({ kind: "learned", ms: e.scoreMs, ...e.learned });
  }
  if (e.deadline) terms.push({ kind: "deadline", ms: e.urgencyMs, ...e.deadline });
  return terms;
}

/** "850 ms", "1.2 s". */
function duration(ms: number): string {
  return ms < 1_000
    ? `${Number(ms.toPrecision(2))} ms`
    : `${Number((ms / 1_000).toPrecision(2))} s`;
}

/** "96 %". */
const percent = (p: number) => `${Math.round(p * 100)} %`;

/** A learned term in words: "embed:.md succeeds 96 % (89–99 %) in 52 runs, median 1.2 s (…)". */
export function describeLearned(l: LearnedTerm, ms: number): string {
  const [pLow, pHigh] = l.successInterval;
  const [tLow, tHigh] = l.medianInterval;
  const runs = l.runs === 0
    ? "with no runs of its own yet (the fleet's average)"
    : `in ${Math.round(l.runs)} runs`;
  return `${l.key} succeeds ${percent(l.success)} (${Math.round(pLow * 100)}–${
    percent(pHigh)
  }) ${runs}, median ${duration(l.medianMs)} (${duration(tLow)}–${duration(tHigh)}): ${
    Number(l.perSecond.toPrecision(2))
  } successes/s against the fleet's ${
    Number(l.pooledPerSecond.toPrecision(2))
  }: learned bonus ${ms}ms (at most ${l.maxLevels} of a level)`;
}

/**
 * The explanation in words: the formula and one sentence per term.
 */
export function describeScore(e: ScoreExplanation): { formula: string; notes: string[] } {
  const notes = [`priority ${e.priority} counts as ${e.priority * e.priorityStepMs}ms of waiting`];
  if (e.learned && "success" in e.learned) notes.push(describeLearned(e.learned, e.scoreMs));
  else if (e.scoreMs > 0) notes.push(`learned bonus ${e.scoreMs}ms`);
  if (e.deadline) {
    notes.push(
      e.urgencyMs > 0
        ? `deadline in ${
          Math.max(0, e.deadline.inMs)
        }ms (window ${e.deadline.windowMs}ms): +${e.urgencyMs}ms urgency`
        : `deadline in ${e.deadline.inMs}ms: not urgent yet`,
    );
  }
  notes.push(...describeRules(e));
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
  const described = { ...describeScore(task.explanation), terms: sortKeyTerms(task.explanation) };
  if (wait === null) return { ...task, explanation: { ...task.explanation, ...described } };
  const notes = [`waits for resources: ${wait.message}`, ...described.notes];
  return {
    ...task,
    explanation: { ...task.explanation, ...described, notes, resources: wait },
  };
}

/**
 * The scoring rules' term (`prioritizer.rules`, lib/tasks/score-rules.ts):
 * the sort key moves by the matched rules' levels, `levels·priorityStepMs`
 * earlier, and the explanation records which rules matched.
 */
export function withRules<T extends { sortKey: number; explanation: ScoreExplanation }>(
  scored: T,
  matched: ReadonlyArray<{ name: string; levels: number }>,
): T {
  if (matched.length === 0) return scored;
  const levels = matched.reduce((sum, rule) => sum + rule.levels, 0);
  const rulesMs = Math.round(levels * scored.explanation.priorityStepMs);
  const sortKey = scored.sortKey - rulesMs;
  const rules = matched.map(({ name, levels }) => ({ name, levels }));
  return { ...scored, sortKey, explanation: { ...scored.explanation, sortKey, rules, rulesMs } };
}

/** The matched rules in words, one sentence each. */
export function describeRules(e: ScoreExplanation): string[] {
  return (e.rules ?? []).map((rule) =>
    `rule ${rule.name} matched: ${rule.levels > 0 ? "+" : ""}${rule.levels} ${
      Math.abs(rule.levels) === 1 ? "level" : "levels"
    } (${Math.round(rule.levels * e.priorityStepMs)}ms of waiting)`
  );
}
