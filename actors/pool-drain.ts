/**
 * The pool's drain at shutdown: its workers retire (they finish their task
 * and claim no other), this promise waits for their tasks with `waitFor` on
 * each busy worker, and at the end of the grace period hands back (aborts)
 * what still runs. The pool invokes it in its `draining` state and answers
 * the drain's askers with its outcome.
 */

import { type ActorRefFrom, fromPromise, waitFor } from "xstate";
import type { Logger } from "../lib/log.ts";
import type { DrainReport } from "../lib/protocol/messages.ts";
import type { workerMachine } from "./worker.ts";

/** A worker of the pool. */
export type WorkerRef = ActorRefFrom<typeof workerMachine>;

/** Anything whose snapshot lists children: the pool's own ref. */
export type PoolRef = { getSnapshot(): { children: Record<string, unknown> } };

/**
 * The pool's workers, as its snapshot lists them now.
 */
export function workersOf(pool: PoolRef): WorkerRef[] {
  const workers: WorkerRef[] = [];
  const children = pool.getSnapshot().children;
  for (const id in children) if (id.startsWith("worker-")) workers.push(children[id] as WorkerRef);
  return workers;
}

const isRunning = (worker: WorkerRef) => worker.getSnapshot().value === "running";

/**
 * Waits until none of the workers running now runs a task any more (each
 * watched with `waitFor`), at most `ms`; true when no worker runs one then.
 * A worker that stops or crashes meanwhile runs nothing either.
 */
async function waitIdle(workers: () => WorkerRef[], ms: number, signal: AbortSignal) {
  await Promise.all(
    workers().filter(isRunning).map((worker) =>
      waitFor(worker, (snap) => snap.value !== "running", { timeout: ms, signal }).catch(() => {})
    ),
  );
  return !workers().some(isRunning);
}

/** Input of the drain: the pool (to see its workers), the grace period, where to log. */
export interface DrainInput {
  pool: PoolRef;
  graceMs: number;
  log: Logger;
}

/** How long tasks handed back at the end of the grace period get to stop. */
const ABORT_WAIT_MS = 5_000;

/**
 * Waits for the retiring workers' tasks, then hands back (aborts) the tasks
 * still running when the grace period ends, and waits for those too.
 */
export const drain = fromPromise<DrainReport, DrainInput>(async ({ input, signal }) => {
  const workers = () => workersOf(input.pool);
  const busy = workers().filter(isRunning).length;
  let handedBack = 0;
  if (!(await waitIdle(workers, input.graceMs, signal))) {
    for (const worker of workers()) {
      const task = worker.getSnapshot().context.current.task;
      if (isRunning(worker) && task) {
        handedBack++;
        worker.send({ type: "abort", taskId: task.id, reason: "shutdown" });
      }
    }
    await waitIdle(workers, ABORT_WAIT_MS, signal);
  }
  input.log.info("workers drained", { busy, handedBack });
  return { finished: busy - handedBack, handedBack };
});
