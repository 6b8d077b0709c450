/**
 * Tasks: the unit of background work, its states and the rules every store and
 * worker share (which states are live, how retries back off).
 */

import type { Json } from "../events/cloud-event.ts";
import { backoffMs } from "../backoff.ts";
import { ValidationError } from "../errors.ts";
import { intIn } from "../validate.ts";

/**
 * Task states.
 * - `waiting`: some `dependsOn` task has not succeeded yet.
 * - `scheduled`: `runAt` is in the future.
 * - `queued`: ready; the best one is claimed first.
 * - `running`: a worker holds its lease.
 * - `retrying`: an attempt failed and another is due at `runAt`.
 * - `succeeded`, `failed` (permanent failure, or a dependency ended badly),
 *   `dead` (attempts used up), `cancelled`, `expired` (`expiresAt` passed before it
 *   started): terminal.
 */
export const TASK_STATES = [
  "waiting",
  "scheduled",
  "queued",
  "running",
  "retrying",
  "succeeded",
  "failed",
  "dead",
  "cancelled",
  "expired",
] as const;
/** One of {@link TASK_STATES}. */
export type TaskState = typeof TASK_STATES[number];

/**
 * A task priority: an integer 0..9, 9 first. The one check behind the
 * configuration (schedules, hooks), task requests, reprioritizing and the
 * API's description of a task.
 */
export const taskPriority = intIn(0, 9);

/**
 * `value` as a task priority, or a {@link ValidationError} naming the range,
 * for callers that get a priority outside a request schema.
 */
export function checkTaskPriority(value: unknown): number {
  const parsed = taskPriority.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ValidationError(`priority must be an integer 0..9, got ${JSON.stringify(value)}`, {
    field: "priority",
    value,
  });
}

/** States a task can still leave: a `key` is unique among these. */
export const LIVE_STATES: readonly TaskState[] = [
  "waiting",
  "scheduled",
  "queued",
  "running",
  "retrying",
];
/** States a task never leaves (except by an explicit retry). */
export const TERMINAL_STATES: readonly TaskState[] = [
  "succeeded",
  "failed",
  "dead",
  "cancelled",
  "expired",
];

/** True when the task will not change again on its own. */
export function isTerminal(state: TaskState): boolean {
  return TERMINAL_STATES.includes(state);
}

/** The learned model's figures behind a task's learned bonus (lib/tasks/learn/model.ts). */
export interface LearnedTerm {
  /** The type or `prioritizer.scoreBy` key learned under. */
  key: string;
  /** Effective runs after forgetting (0: the fleet's pooled prior alone). */
  runs: number;
  /** P(success), with its 90 % credible interval. */
  success: number;
  successInterval: [number, number];
  /** Median run time (ms), with its 90 % credible interval. */
  medianMs: number;
  medianInterval: [number, number];
  /** Expected run time (ms). */
  meanMs: number;
  /** P(success) / E[run time] in 1/s, and the fleet prior's, which the bonus is relative to. */
  perSecond: number;
  pooledPerSecond: number;
  /** The bonus in levels, and its bound (`prioritizer.learnWeight`). */
  levels: number;
  maxLevels: number;
}

/**
 * One term of a task's sort key, typed so callers (the explanation in words,
 * `why`) read figures rather than sentences. Every term but `enqueued`
 * subtracts its `ms` from `enqueuedAt`.
 */
export type SortKeyTerm =
  | { kind: "enqueued"; at: number }
  | { kind: "priority"; priority: number; ms: number }
  | ({ kind: "learned"; ms: number } & LearnedTerm)
  | { kind: "deadline"; ms: number; inMs: number; windowMs: number };

/**
 * Why a task sorts where it does: the numbers the prioritizer weighed. The
 * store keeps only these; `formula` and `notes` (plain sentences) are derived
 * from them when a task is shown (`explainTask` in lib/tasks/priority.ts), which keeps
 * every task row small (row size is what a durable enqueue pays for).
 */
export interface ScoreExplanation {
  priority: number;
  priorityStepMs: number;
  /** Learned bonus in ms of waiting (from this type's history). */
  scoreMs: number;
  /** Bonus for a near deadline, in ms of waiting. */
  urgencyMs: number;
  enqueuedAt: number;
  sortKey: number;
  /** What the learned score came from, when one applied. */
  learned?: LearnedTerm;
  /** The sort key term by term, derived when shown like `notes` (`sortKeyTerms`). */
  terms?: SortKeyTerm[];
  /** Time to the deadline when scored, and the window that makes it urgent. */
  deadline?: { inMs: number; windowMs: number };
  /** Scoring rules (`prioritizer.rules`) whose `when` matched, and the levels each moved it. */
  rules?: Array<{ name: string; levels: number }>;
  /** What the matched rules moved the sort key by, in ms of waiting (`levels·priorityStepMs`). */
  rulesMs?: number;
  /** `sortKey = enqueuedAt - priority*priorityStepMs - scoreMs - urgencyMs`; lower runs first. */
  formula?: string;
  /** Plain sentences: "priority 9 counts as 540000ms of waiting", ... */
  notes?: string[];
}

/** The error kept on a task after a failed attempt. */
export interface TaskError {
  message: string;
  name?: string;
  stack?: string;
  attempt: number;
  /** The handler asked for no more retries. */
  permanent?: boolean;
}

/** What a store needs to create a task (defaults already applied, sort key computed). */
export interface NewTask {
  id: string;
  type: string;
  queue: string;
  payload: Json;
  /** 0–9, 9 first. */
  priority: number;
  /** Claim order: lower first. */
  sortKey: number;
  /** Learned score (0 when nothing has been learned). */
  score: number;
  explanation: ScoreExplanation;
  maxAttempts: number;
  /** Task ids or keys of live or finished tasks (keys resolve to ids on enqueue). */
  dependsOn: string[];
  runAt: number | null;
  deadline: number | null;
  expiresAt: number | null;
  timeoutMs: number | null;
  key: string | null;
  resources: Record<string, number>;
  /** Correlation id carried to the task's events. */
  correlationId: string | null;
  createdAt: number;
  /**
   * Its group key under a queue rate limit by group (`rateLimit.by`),
   * rendered by the store at enqueue; absent otherwise.
   */
  rateGroup?: string;
  /** The task whose handler made it (`ctx.enqueue`); absent otherwise. */
  parentId?: string;
  /**
   * The batch it belongs to: the id given or made for a `{tasks, batch}`
   * create, or its parent's id for a task made by `ctx.enqueue`; absent otherwise.
   */
  batchId?: string;
}

/**
 * A task as stored and as the API returns it: what it was created with, and
 * its run so far. Times are epoch milliseconds.
 */
export interface Task extends NewTask {
  /** Ids of the tasks it waits for. */
  dependsOn: string[];
  state: TaskState;
  attempts: number;
  progress: number;
  progressMessage: string | null;
  result: Json | null;
  error: TaskError | null;
  /** When it last became queued (aging counts from here). */
  enqueuedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  workerId: string | null;
  /** Lease fencing token: bumps on every claim. */
  fence: number;
  leaseUntil: number | null;
}

/**
 * Delay before retry `attempt` (1-based count of failed attempts so far):
 * exponential with full jitter, as in AWS's "Exponential Backoff and Jitter".
 *
 * @example
 * ```ts
 * retryDelayMs(3, { baseMs: 1000, maxMs: 60000 }, () => 0.5); // 2000
 * ```
 */
export function retryDelayMs(
  attempt: number,
  backoff: { baseMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  return backoffMs(attempt, { ...backoff, jitter: 1 }, random);
}
