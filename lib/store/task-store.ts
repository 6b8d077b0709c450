/**
 * The task side of the store: creating, claiming, finishing and sweeping
 * tasks, what the API and metrics read of them, and the learned statistics
 * per task type the prioritizer scores with. Every method that changes a task
 * is one atomic step; every method takes `now` (epoch ms) where time matters,
 * so the conformance suite can drive time.
 */

import type { Json } from "../events/cloud-event.ts";
import type { ClaimBudget } from "../tasks/resources.ts";
import type { BatchStore } from "./batch-store.ts";
import type { QueueControl } from "./queue-control.ts";
import type { NewTask, Task, TaskError, TaskState } from "../tasks/task.ts";

/** Result of {@link TaskStore.enqueue}. */
export interface EnqueueResult {
  task: Task;
  /** A live task with the same `key` existed; it is returned and nothing was created. */
  deduplicated: boolean;
  /**
   * Queued tasks this task's creation dropped to make room in its full queue
   * (the `overflow` option), now `cancelled`, with the dependents that failed.
   */
  dropped?: FinishResult[];
}

/** Options of {@link TaskStore.enqueue} and {@link TaskStore.enqueueMany}. */
export interface EnqueueOptions {
  /**
   * The bound of each queue that has one: at most this many of its tasks
   * queued, scheduled or retrying. A step that would pass it creates nothing
   * and throws QueueFullError (checked inside the step, so exact across processes).
   */
  maxSize?: Readonly<Record<string, number>>;
  /**
   * Bounded queues whose excess drops queued tasks instead: the oldest, or
   * the lowest-priority then oldest, are cancelled in the same step to make
   * room (each reported in {@link EnqueueResult.dropped}); QueueFullError
   * only when too few are queued. Unlisted queues refuse.
   */
  overflow?: Readonly<Record<string, DropPolicy>>;
  /**
   * The tasks start their batch (all of them carry the same `batchId`): a
   * batch that exists is a ConflictError and nothing is created. Without it,
   * tasks with a `batchId` join their batch, made on first use.
   */
  newBatch?: boolean;
}

/** How a full queue makes room for a new task: which queued task it drops. */
export type DropPolicy = "drop-oldest" | "drop-lowest-priority";

/**
 * Where a listing stands: the last task of the page before. Tasks are listed
 * by creation (createdAt, then id, newest first), which no state change moves,
 * so a page that starts after it never repeats a task while tasks run.
 */
export interface TaskPosition {
  createdAt: number;
  id: string;
}

/** Filter of {@link TaskStore.listTasks}; newest first (createdAt, then id, descending). */
export interface TaskFilter {
  state?: TaskState;
  queue?: string;
  type?: string;
  /** The task's dedupe key. */
  key?: string;
  correlationId?: string;
  /** The subject of the event a hook made the task for (`payload.event.subject`). */
  subject?: string;
  /** Created at or after (epoch ms). */
  createdAfter?: number;
  /** Created before (epoch ms). */
  createdBefore?: number;
  /** Only tasks after this one in list order (the last of the previous page). */
  after?: TaskPosition;
  limit?: number;
}

/**
 * One change applied to many tasks by {@link TaskStore.changeTasks}. A task
 * the action does not apply to (any more: it moved on, or is gone) is skipped.
 * - `cancel`: live tasks end `cancelled` (running ones too, as
 *   {@link TaskStore.cancel}); their waiting dependents fail.
 * - `retry`: failed, dead, cancelled or expired tasks are queued again, as
 *   {@link TaskStore.retry}; skipped while another live task holds the key.
 * - `delete`: tasks that are not running are removed; a live one is
 *   cancelled first, so its waiting dependents fail instead of waiting for ever.
 * - `reprioritize`: tasks that have not started get the priority and sort key given.
 */
export type TaskChange =
  | { action: "cancel" | "retry" | "delete"; ids: string[] }
  | {
    action: "reprioritize";
    tasks: Array<{
      id: string;
      priority: number;
      sortKey: number;
      explanation: Task["explanation"];
    }>;
  };

/** Result of {@link TaskStore.changeTasks}. */
export interface TaskChangeResult {
  /** The tasks changed, as they are now (deleted ones: as they were last). */
  tasks: Task[];
  /** Dependents that changed with them (failed by a cancel or delete). */
  dependents: TaskTransition[];
}

/** Options of {@link TaskStore.claim}. */
export interface ClaimOptions {
  workerId: string;
  /** Queues to take from; `null` = every queue. */
  queues: string[] | null;
  leaseMs: number;
  now: number;
  /**
   * Resources this claim may take; a task needing more is skipped (and tasks
   * behind it are considered). `null` or absent = no limit. Ignored with a
   * `budget`.
   */
  available?: Record<string, number> | null;
  /**
   * The most of each resource the claimer ever has. A skipped task that would
   * fit it holds back what it needs: tasks behind it only get what is left,
   * so it runs as soon as enough frees up instead of being overtaken for
   * ever. A task asking for more than this holds nothing back (it cannot run
   * here at all). Absent = no holding back. Ignored with a `budget`.
   */
  capacity?: Record<string, number> | null;
  /**
   * Resources shared by concurrent claims (a worker pool's): the claim takes
   * what is free from it and records what it took, so claims running at the
   * same moment never hand out the same unit twice. Replaces `available`
   * (the loan's free amounts) and `capacity` (the budget's).
   */
  budget?: ClaimBudget;
}

/** A task change that other parts must hear about (they become `task.*` events). */
export interface TaskTransition {
  task: Task;
  /** The state it left. */
  from: TaskState;
}

/** Result of {@link TaskStore.complete}, {@link TaskStore.fail}, {@link TaskStore.cancel}: the task and any dependents that changed with it. */
export interface FinishResult {
  task: Task;
  /** Dependents released (now queued/scheduled) or failed because of this change. */
  dependents: TaskTransition[];
}

/** Counts per queue for `/health/queue` and `GET /un/queues`. */
export interface QueueCounts {
  waiting: number;
  scheduled: number;
  queued: number;
  running: number;
  retrying: number;
  succeeded: number;
  failed: number;
  dead: number;
  cancelled: number;
  expired: number;
}

/** Learned statistics of one task type (for the prioritizer's score). */
export interface TypeStats {
  type: string;
  runs: number;
  failures: number;
  /** Exponential moving average of run time. */
  avgMs: number;
  updatedAt: number;
  /** The learned model's statistics, as of `updatedAt` (absent on rows written before it). */
  model?: RunModel;
}

/**
 * Forgetting-weighted sufficient statistics of a type's runs (see
 * lib/tasks/learn/): each run counts 0.5^(age / half-life).
 */
export interface RunModel {
  /** Weighted runs. */
  weight: number;
  /** Weighted failures. */
  failWeight: number;
  /** Weighted Σ ln(run ms). */
  logSum: number;
  /** Weighted Σ ln(run ms)². */
  logSqSum: number;
}

/**
 * Runs of one task type gathered since the last write (see {@link TaskStore.recordRuns}).
 */
export interface RunSample {
  /** Finished attempts (succeeded or failed). */
  runs: number;
  /** How many of them failed. */
  failures: number;
  /** Their mean run time (ms). */
  meanMs: number;
  /** Σ ln(run ms) of the runs (default: runs × ln(meanMs)). */
  logSum?: number;
  /** Σ ln(run ms)² of the runs (default: runs × ln(meanMs)²). */
  logSqSum?: number;
  /** Forgetting: the stored model decays by 0.5 per half-life since its last write (default: none). */
  halfLifeMs?: number;
}

/** The run model after a batch: the old one decayed since `updatedAt`, plus the batch. */
export function modelAfter(
  old: RunModel | null,
  updatedAt: number,
  sample: RunSample,
  now: number,
): RunModel {
  const log = Math.log(Math.max(MIN_RUN_MS, sample.meanMs));
  const add: RunModel = {
    weight: sample.runs,
    failWeight: sample.failures,
    logSum: sample.logSum ?? sample.runs * log,
    logSqSum: sample.logSqSum ?? sample.runs * log * log,
  };
  if (old === null) return add;
  const halfLife = sample.halfLifeMs ?? 0;
  const d = halfLife > 0 && now > updatedAt ? 0.5 ** ((now - updatedAt) / halfLife) : 1;
  return {
    weight: old.weight * d + add.weight,
    failWeight: old.failWeight * d + add.failWeight,
    logSum: old.logSum * d + add.logSum,
    logSqSum: old.logSqSum * d + add.logSqSum,
  };
}

/** A row's model; rows from before the model count every run alike, at the moving average. */
export function storedModel(stats: TypeStats): RunModel {
  return stats.model ?? modelAfter(null, stats.updatedAt, {
    runs: stats.runs,
    failures: stats.failures,
    meanMs: stats.avgMs,
  }, stats.updatedAt);
}

/** Run times are floored here before their logarithm (a no-op task takes ~0 ms). */
export const MIN_RUN_MS = 0.1;

/** Alpha of the run-time moving average, per run. */
export const RUN_AVG_ALPHA = 0.2;

/**
 * How far one batch of `runs` runs moves the moving average toward its mean:
 * the same as applying alpha {@link RUN_AVG_ALPHA} once per run, each with the
 * batch's mean, so batching changes how often the store is written, not how
 * fast the average learns.
 *
 * @example
 * ```ts
 * runBatchWeight(1); // 0.2
 * runBatchWeight(2); // 0.36
 * ```
 */
export function runBatchWeight(runs: number): number {
  return 1 - (1 - RUN_AVG_ALPHA) ** runs;
}

/** Tasks: their whole life, the views of them, and the learned statistics per type. */
export interface TaskStore extends QueueControl, BatchStore {
  /** Creates a task (or returns the live one with the same key). Throws CycleError / ValidationError on bad `dependsOn`. */
  enqueue(task: NewTask, now: number, options?: EnqueueOptions): Promise<EnqueueResult>;
  /** Creates several tasks in one atomic step; `dependsOn` may name keys of tasks in the same batch. */
  enqueueMany(tasks: NewTask[], now: number, options?: EnqueueOptions): Promise<EnqueueResult[]>;
  getTask(id: string): Promise<Task | null>;
  listTasks(filter: TaskFilter): Promise<Task[]>;
  /**
   * Applies one change to each of the tasks named, in one atomic step (a
   * bulk action's batch), skipping those it does not apply to.
   */
  changeTasks(change: TaskChange, now: number): Promise<TaskChangeResult>;
  /** Takes the best ready task (lowest sortKey) and a lease on it; bumps `fence` and `attempts`. */
  claim(options: ClaimOptions): Promise<Task | null>;
  /** Extends a lease; false when the fence no longer holds. */
  renew(id: string, fence: number, leaseMs: number, now: number): Promise<boolean>;
  /** Records progress; throws LeaseLostError when the fence no longer holds. */
  progress(id: string, fence: number, fraction: number, message: string | null): Promise<void>;
  /** Marks success; throws LeaseLostError when the fence no longer holds. */
  complete(id: string, fence: number, result: Json, now: number): Promise<FinishResult>;
  /**
   * Records a failed attempt. With `retryAt` the task goes `retrying` (due then);
   * without, it ends `dead` (attempts used up) or `failed` (`error.permanent`).
   * Throws LeaseLostError when the fence no longer holds.
   */
  fail(
    id: string,
    fence: number,
    error: TaskError,
    retryAt: number | null,
    now: number,
  ): Promise<FinishResult>;
  /** Cancels a live task (running ones too: the worker's late result is refused). ConflictError if finished. */
  cancel(id: string, now: number): Promise<FinishResult>;
  /** Puts a failed, dead, cancelled or expired task back in the queue with fresh attempts. */
  retry(id: string, now: number): Promise<Task>;
  /** Changes priority and sort key of a task that has not started. */
  reprioritize(
    id: string,
    priority: number,
    sortKey: number,
    explanation: Task["explanation"],
  ): Promise<Task>;
  /** Moves `scheduled`/`retrying` tasks whose runAt has come to `queued`; returns them. */
  promoteDue(now: number): Promise<TaskTransition[]>;
  /** Earliest runAt among scheduled/retrying tasks, or null. */
  nextDueAt(): Promise<number | null>;
  /**
   * Leases that ran out: puts those tasks back in the queue (or `dead` when no
   * attempts are left). With `all`, every running task counts as stalled (embedded
   * start-up: nobody else can hold a lease).
   */
  recoverStalled(now: number, all?: boolean): Promise<TaskTransition[]>;
  /** Tasks whose `expiresAt` passed before they started become `expired`. */
  expireDue(now: number): Promise<TaskTransition[]>;
  /** Live tasks with a deadline before `before` that have not started (the prioritizer re-scores them). */
  tasksNearDeadline(before: number, limit: number): Promise<Task[]>;
  /** Counts by queue and state. */
  queueCounts(): Promise<Record<string, QueueCounts>>;
  /**
   * When the oldest queued task of each of these queues was enqueued (queues
   * with none queued are left out), for `un_queue_oldest_age_seconds`.
   * Optional: a store without it reports no age.
   */
  oldestQueuedAt?(queues: string[]): Promise<Record<string, number>>;

  /**
   * Folds a batch of finished runs of `type` into its statistics in one write:
   * `runs` and `failures` are added; `avgMs` moves toward `sample.meanMs` as if
   * each of the `runs` runs had taken that long and been applied one by one with
   * alpha 0.2 (weight `1 − 0.8^runs`; the type's first batch sets it). The
   * `model` decays by `sample.halfLifeMs` since `updatedAt`, then gains the
   * batch (see {@link modelAfter}). A sample with fewer than one run changes nothing.
   */
  recordRuns(type: string, sample: RunSample, now: number): Promise<void>;
  typeStats(type: string): Promise<TypeStats | null>;
}
