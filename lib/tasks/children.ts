/**
 * Fan-out from a handler: `ctx.enqueue` creates child tasks through the
 * prioritizer (so scoring, queue bounds and validation are the API's), and
 * `ctx.waitForChildren` waits until they have all ended, BullMQ-flow style.
 *
 * The children of a task form the batch named by its id, so one mechanism
 * (lib/store/batch-store.ts) counts them, gives their combined progress and
 * announces `batch.completed` once. The wait polls the batch in the store
 * at a short interval rather than following `task.*` events: on Redis the
 * children may run in any process, and a count cannot miss an event that
 * came before the wait began. Each poll reads the store's live count of the
 * batch (batchPulse, no per-child read on Redis); the batch itself (one
 * read per child) only to confirm it done and to show progress, at a bounded
 * rate, so many parents waiting on big batches cost the store little.
 */

import { UnavailableError } from "../errors.ts";
import type { EventInit } from "../events/cloud-event.ts";
import type { ChildOutcome, WaitForChildrenOptions } from "../handlers/types.ts";
import type { TaskRequest } from "../protocol/messages.ts";
import type { BatchPulse, EnqueueResult, TaskStore } from "../store/types.ts";
import { batchCompleted } from "./batch-watch.ts";
import { parseTaskRequests } from "./task-request.ts";
import type { Task } from "./task.ts";

/** How a task's context creates tasks: the prioritizer's `task.enqueueMany`. */
export type EnqueueTasks = (requests: TaskRequest[]) => Promise<EnqueueResult[]>;

/** What fan-out needs of the attempt. */
export interface FanOutSource {
  task: Task;
  store: Pick<TaskStore, "getBatch" | "batchPulse" | "batchTasks" | "settleBatch">;
  enqueue?: EnqueueTasks;
  /**
   * Tells the pool this task's worker waits for children, so it lends the
   * slot to a stand-in; the returned function takes it back. Absent: the
   * wait holds the slot.
   */
  park?: () => () => void;
  emit(init: EventInit): void;
  now(): number;
}

const DEFAULT_POLL_MS = 100;
/** A read of the whole batch at least this often while children end (progress). */
const PROGRESS_MS = 500;
/** And this often while none ends (the running children's own progress). */
const PROGRESS_IDLE_MS = 5_000;

/**
 * Validates and creates children of `source.task`: each gets the parent's
 * id as `parentId` and `batchId`, and its correlation id unless it has one.
 */
export async function enqueueChildren(source: FanOutSource, requests: unknown): Promise<string[]> {
  const { task, enqueue } = source;
  const list = parseTaskRequests(Array.isArray(requests) ? requests : [requests]);
  if (!enqueue) throw new UnavailableError("ctx.enqueue: this worker cannot create tasks");
  const correlationId = task.correlationId ?? task.id;
  const results = await enqueue(list.map((request) => ({
    ...request,
    correlationId: request.correlationId ?? correlationId,
    parentId: task.id,
    batchId: task.id,
  })));
  return results.map((result) => result.task.id);
}

/**
 * Resolves with the children's outcomes once every one has ended; until then
 * reports their combined progress as the task's own (`progress`) whenever it
 * moves. Rejects with the signal's reason when it aborts.
 */
export async function waitForChildren(
  source: FanOutSource,
  progress: (fraction: number, message: string) => Promise<void>,
  signal: AbortSignal,
  options: WaitForChildrenOptions = {},
): Promise<ChildOutcome[]> {
  const { task, store } = source;
  const pollMs = Math.max(5, options.pollMs ?? DEFAULT_POLL_MS);
  let shown = -1;
  let lastRead: BatchRead | null = null;
  let unpark: (() => void) | undefined;
  try {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const pulse = await store.batchPulse(task.id);
      if (pulse === null) return [];
      if (readsBatch(pulse, lastRead, performance.now())) {
        const batch = await store.getBatch(task.id);
        if (batch === null) return [];
        lastRead = { at: performance.now(), ended: pulse.joined - (pulse.live ?? 0) };
        const ended = batch.total - live(batch.counts);
        if (batch.progress !== shown) {
          shown = batch.progress;
          await progress(batch.progress, `${ended}/${batch.total} children ended`);
        }
        if (batch.done) break;
      }
      // Waiting, not working: the slot goes to a stand-in, so children in
      // this pool's queues can run even when every worker is a waiting parent.
      unpark ??= source.park?.();
      await sleep(pollMs, signal);
    }
  } finally {
    unpark?.();
  }
  // Normally settled by the process where the last child ended
  // (lib/tasks/batch-watch.ts); this covers one that stopped in between.
  const settled = await store.settleBatch(task.id, source.now());
  if (settled !== null) source.emit(batchCompleted(settled));
  return (await store.batchTasks(task.id, Number.MAX_SAFE_INTEGER)).map((child) => ({
    id: child.id,
    type: child.type,
    state: child.state,
    result: child.result,
    error: child.error,
  }));
}

/** When the wait last read the whole batch, and how many children had ended by the pulse then. */
interface BatchRead {
  at: number;
  ended: number;
}

/**
 * Whether to read the whole batch now: first; whenever the store keeps no
 * live count or counts none live (only the read says it is done); once 1 %
 * of the children (at least one) ended since the last read; after
 * PROGRESS_MS when any did; after PROGRESS_IDLE_MS anyway. So a batch is
 * read at most about 100 times for its ends, plus twice a second.
 */
function readsBatch(pulse: BatchPulse, last: BatchRead | null, now: number): boolean {
  if (last === null || pulse.live === null || pulse.live === 0) return true;
  const since = now - last.at;
  const moved = Math.abs(pulse.joined - pulse.live - last.ended);
  if (moved >= Math.max(1, Math.ceil(pulse.joined / 100))) return true;
  return (moved > 0 && since >= PROGRESS_MS) || since >= PROGRESS_IDLE_MS;
}

function live(counts: Partial<Record<string, number>>): number {
  return (counts.waiting ?? 0) + (counts.scheduled ?? 0) + (counts.queued ?? 0) +
    (counts.running ?? 0) + (counts.retrying ?? 0);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** A parent's children counted, as `GET /un/tasks/:id` shows them. */
export interface ChildCounts {
  total: number;
  /** Not started yet: waiting, scheduled, queued or retrying. */
  queued: number;
  running: number;
  succeeded: number;
  /** Ended otherwise: failed, dead, cancelled or expired. */
  failed: number;
  /** Their combined progress (an ended child counts 1). */
  progress: number;
}

/**
 * The children of `task` counted, or null when it made none.
 *
 * @example
 * ```ts
 * await childCounts(store, parent); // { total: 100, queued: 40, running: 4, succeeded: 56, failed: 0, progress: 0.58 }
 * ```
 */
export async function childCounts(
  store: Pick<TaskStore, "getBatch">,
  task: Pick<Task, "id">,
): Promise<ChildCounts | null> {
  const batch = await store.getBatch(task.id);
  if (batch === null || batch.parentId !== task.id) return null;
  const n = batch.counts;
  const running = n.running ?? 0;
  const succeeded = n.succeeded ?? 0;
  const queued = live(n) - running;
  return {
    total: batch.total,
    queued,
    running,
    succeeded,
    failed: batch.total - queued - running - succeeded,
    progress: batch.progress,
  };
}
