/**
 * Batches: tasks created together (`POST /un/tasks/create` with `batch`) or
 * made by one handler (`ctx.enqueue`, the batch named by the parent's id),
 * read as one: how many in each state, their combined progress, and the one
 * moment the last of them ended (`batch.completed`).
 */

import { ConflictError, ValidationError } from "../errors.ts";
import type { NewTask, Task, TaskState } from "../tasks/task.ts";

/** A batch as `GET /un/batches/:id` shows it. */
export interface BatchView {
  id: string;
  /** The task whose handler made it (a fan-out); absent for a batch created over the API. */
  parentId?: string;
  /** How many tasks it holds (tasks removed by retention are no longer counted). */
  total: number;
  /** How many of its tasks are in each state (states with none left out). */
  counts: Partial<Record<TaskState, number>>;
  /** Mean progress of its tasks, an ended task counting 1. */
  progress: number;
  /** Every task of it has ended. */
  done: boolean;
  createdAt: number;
  /** When its completion was announced (absent until then). */
  completedAt?: number;
  /**
   * Set in a listing when the batch holds more tasks than the listing counts
   * (`countLimit`): `total`, `counts` and `progress` are then over that many
   * of them, and `done` is whether it was announced.
   */
  partial?: true;
}

/** A listing's batches: open (not announced yet) or completed (announced). */
export type BatchState = "open" | "completed";

/** Where a page of batches ended: the last one's sort time and id. */
export interface BatchPosition {
  /** Its createdAt, or its completedAt in a listing of completed batches. */
  at: number;
  id: string;
}

/** Which batches `listBatches` reads. */
export interface BatchListQuery {
  /** Only these (default: both). */
  state?: BatchState;
  /** At most this many batches. */
  limit: number;
  /** Those after this position (the `next` of the page before). */
  after?: BatchPosition;
  /** Tasks counted per batch at most (default {@link BATCH_COUNT_LIMIT}). */
  countLimit?: number;
}

/** One page of batches, newest first; `next` when more may follow. */
export interface BatchPage {
  batches: BatchView[];
  next?: BatchPosition;
}

/**
 * How far a batch is, read without reading its tasks where the store keeps
 * counts (Redis): what a waiting parent polls, reading the batch itself
 * ({@link BatchStore.getBatch}) only to confirm it done or to show progress.
 */
export interface BatchPulse {
  /** How many tasks joined it (on Redis, counting any removed since). */
  joined: number;
  /**
   * How many of them have not ended, as the store counts them: a hint, since
   * only getBatch says for sure that every task ended. null when the store
   * keeps no count for it (on Redis, a batch made before the count was kept).
   */
  live: number | null;
  /** Its completion was announced. */
  completed: boolean;
}

/** How {@link BatchStore.settleBatch} checks a batch. */
export interface SettleOptions {
  /**
   * Read every task even when the store's live count says some are live,
   * and set the count right (the periodic clean-up's check, so a count that
   * went wrong cannot hold a batch open for ever).
   */
  recount?: boolean;
}

/** How many of a batch's tasks a listing counts at most, so a page costs a bounded read. */
export const BATCH_COUNT_LIMIT = 1_000;

/** The batch part of the store. */
export interface BatchStore {
  /** The batch, counted now; null when no task ever joined it. */
  getBatch(id: string): Promise<BatchView | null>;
  /** How far the batch is, cheaply (see {@link BatchPulse}); null when unknown. */
  batchPulse(id: string): Promise<BatchPulse | null>;
  /** Its tasks, oldest first (at most `limit`, default 1000). */
  batchTasks(id: string, limit?: number): Promise<Task[]>;
  /**
   * Marks the batch completed when every task of it has ended and it is not
   * marked yet, in one atomic step: of several calls (several processes, at
   * once) exactly one gets the batch; the others, and every call while a
   * task is live, get null. Tasks added to it later (a parent's next
   * `ctx.enqueue`) open it again. While the store's live count of the batch
   * is above 0 (Redis) a call reads that count alone, so settling as each
   * task ends costs O(1) until the last one.
   */
  settleBatch(id: string, now: number, options?: SettleOptions): Promise<BatchView | null>;
  /**
   * Ids of batches not announced yet, oldest first (at most `limit`): what
   * the scheduler's clean-up settles, so a batch whose last task ended in a
   * process that stopped before it settled is still announced.
   */
  openBatches(limit: number): Promise<string[]>;
  /**
   * Batches newest first, by createdAt (by completedAt when `state` is
   * "completed"; equal times by id, descending), each counted as
   * {@link getBatch} counts it over at most `countLimit` of its tasks.
   */
  listBatches(query: BatchListQuery): Promise<BatchPage>;
}

/**
 * `counts` and `progress` of a batch from its tasks' states and progress.
 *
 * @example
 * ```ts
 * tallyBatch([{ state: "succeeded", progress: 1 }, { state: "running", progress: 0.5 }]);
 * // { total: 2, counts: { succeeded: 1, running: 1 }, progress: 0.75, done: false }
 * ```
 */
export function tallyBatch(
  tasks: Iterable<{ state: TaskState; progress: number }>,
): Pick<BatchView, "total" | "counts" | "progress" | "done"> {
  const counts: Partial<Record<TaskState, number>> = {};
  let total = 0;
  let sum = 0;
  let live = 0;
  for (const { state, progress } of tasks) {
    total++;
    counts[state] = (counts[state] ?? 0) + 1;
    const ended = ENDED.has(state);
    if (!ended) live++;
    sum += ended ? 1 : Math.min(1, Math.max(0, progress));
  }
  return { total, counts, progress: total === 0 ? 1 : sum / total, done: live === 0 };
}

const ENDED: ReadonlySet<TaskState> = new Set([
  "succeeded",
  "failed",
  "dead",
  "cancelled",
  "expired",
]);

/**
 * A listed batch from its head and the tasks counted: `partial` when more
 * tasks were left uncounted, whose `done` is then whether it was announced.
 */
export function listedBatch(
  head: Pick<BatchView, "id" | "parentId" | "createdAt" | "completedAt">,
  tasks: Iterable<{ state: TaskState; progress: number }>,
  partial: boolean,
): BatchView {
  const view: BatchView = { id: head.id, ...tallyBatch(tasks), createdAt: head.createdAt };
  if (head.parentId !== undefined) view.parentId = head.parentId;
  if (head.completedAt !== undefined) view.completedAt = head.completedAt;
  if (partial) {
    view.partial = true;
    view.done = head.completedAt !== undefined;
  }
  return view;
}

/** The ConflictError of a batch id in use (both stores). */
export function batchTaken(id: string): ConflictError {
  return new ConflictError(`batch ${id} already exists`, { field: "batch.id", value: id });
}

/**
 * The one batch id the tasks carry (null when none does); a call mixing
 * batches is a ValidationError, as every caller creates one batch at a time.
 */
export function batchOfTasks(tasks: readonly NewTask[]): NewTask | null {
  const first = tasks.find((task) => task.batchId !== undefined) ?? null;
  if (first === null) return null;
  if (tasks.some((task) => task.batchId !== first.batchId)) {
    throw new ValidationError("the tasks of one create must all join the same batch", {
      field: "batch",
      value: first.batchId,
    });
  }
  return first;
}
