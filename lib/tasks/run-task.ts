/**
 * Runs one claimed task to the end of its attempt: calls the handler with a
 * context (signal, progress, emit, log), renews the lease while it runs, and
 * records the outcome in the store under the claim's fence. A handler's failure
 * is a task failure, never a crash of the caller: this function does not throw.
 */

import { Attempt, LeaseExpiredError } from "./attempt.ts";
import { backoffMs } from "../backoff.ts";
import type { RuntimeDeps } from "../protocol/deps.ts";
import { LeaseLostError, PermanentError, UnavailableError } from "../errors.ts";
import type { EventInit, Json } from "../events/cloud-event.ts";
import { isolationOf } from "../handlers/isolate.ts";
import { runIsolated } from "../handlers/isolate-pool.ts";
import { taskFields } from "../log.ts";
import type { FinishResult, TaskStore } from "../store/types.ts";
import { TaskContext } from "./handler-context.ts";
import type { EnqueueTasks } from "./children.ts";
import { watchOverstay } from "./overstay.ts";
import { taskEvent, transitionEvents } from "./task-events.ts";
import { retryDelayMs, type Task, type TaskError } from "./task.ts";

/** Why an attempt was stopped from outside. */
export type AbortReason = "cancelled" | "shutdown";

/** How an attempt ended. */
export type RunOutcome =
  | "succeeded"
  | "retrying"
  | "failed"
  | "dead"
  | "cancelled"
  | "handed-back"
  | "lease-lost";

/** What {@link runTask} needs. */
export interface RunTaskOptions {
  deps: RuntimeDeps<TaskStore>;
  workerId: string;
  task: Task;
  /**
   * The attempt's controller: the caller aborts it with an {@link AbortReason}
   * to cancel or hand the attempt back; the attempt aborts it on its timeout or
   * a lost lease. Its signal is the handler's `ctx.signal`.
   */
  controller: AbortController;
  /** Publishes an event through the supervisor. */
  emit(init: EventInit): void;
  /** Tells the pool that tasks became ready (released dependents). */
  ready(count: number): void;
  /** Creates tasks through the prioritizer, for `ctx.enqueue`; absent: handlers cannot. */
  enqueue?: EnqueueTasks;
  /** Lends the worker's slot to a stand-in while the handler waits for its children. */
  park?: () => () => void;
  /**
   * Claims the worker's next task, or resolves null when it should not take
   * one. Called as soon as the outcome's store write is issued, so on the
   * embedded store both land in one group commit and the worker waits once.
   */
  claimNext(): Promise<Task | null>;
}

/** How an attempt ended, and the next task already claimed (or null). */
export interface RunResult {
  outcome: RunOutcome;
  next: Task | null;
}

/**
 * Runs the attempt and resolves with its outcome.
 */
export async function runTask(options: RunTaskOptions): Promise<RunResult> {
  const attempt = new Attempt(options);
  const outcome = await runAttempt(attempt);
  return { outcome, next: await (attempt.next ?? options.claimNext()) };
}

async function runAttempt(attempt: Attempt<RunTaskOptions>): Promise<RunOutcome> {
  const { options } = attempt;
  const { deps, task, workerId } = options;
  const { store } = deps;
  const started = deps.now();
  const { controller } = options;
  attempt.start();

  // The wait counts from when the task became ready: enqueued, or due (a retry, a runAt).
  const readyAt = Math.max(task.enqueuedAt, task.runAt ?? 0);
  options.emit(
    taskEvent("started", task, { workerId, waitMs: (task.startedAt ?? started) - readyAt }),
  );
  let outcome: RunOutcome;
  let recording = false;
  try {
    // A handler that returned at once is not awaited: no promise and no turn per task.
    const returned = callHandler(options, controller.signal);
    const result = returned instanceof Promise ? await returned : returned;
    recording = true;
    outcome = await settle(attempt, () => store.complete(task.id, task.fence, result, deps.now()), {
      kind: "succeeded",
      extra: { durationMs: deps.now() - started, result: summarize(result) },
    });
    if (outcome === "succeeded") recordRun(deps, task, deps.now() - started, true);
  } catch (err) {
    // A store that cannot record the success (Redis away) is no handler
    // failure: the task stays leased and comes back through the reaper.
    outcome = recording && err instanceof UnavailableError
      ? unrecorded(options, err)
      : await onFailure(attempt, err, controller.signal.reason, started);
  } finally {
    attempt.end();
  }
  return outcome;
}

/** The handler's result: at once when it returned at once, else a promise (throws the same way). */
function callHandler(options: RunTaskOptions, signal: AbortSignal): Json | Promise<Json> {
  const { deps, task } = options;
  const handler = deps.handlers[task.type];
  if (!handler) {
    throw new PermanentError(
      `no handler for task type "${task.type}" (known: ${Object.keys(deps.handlers).join(", ")})`,
    );
  }
  const ctx = new TaskContext(options, signal);
  if (signal.aborted) throw signal.reason;
  // Isolated: in a Web Worker, which is terminated when the handler overstays an abort.
  const origin = isolationOf(deps.config, deps.handlers, task, deps.log);
  if (origin) return runIsolated({ task, ctx, origin, deps });
  const returned = handler(task, ctx);
  // A handler that returned at once needs no race with the abort (and a busy
  // queue of quick handlers no promise and listener per task).
  if (isThenable(returned)) return untilAborted(returned, signal, options).then(orNull);
  return orNull(returned);
}

/** A handler that returned nothing returned null. */
function orNull(result: Json | undefined): Json {
  return result === undefined ? null : result;
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null)?.then === "function";
}

/**
 * A handler that ignores its signal still cannot hold the worker past an
 * abort: we stop waiting for it (JavaScript cannot kill it; its late result
 * is refused by the fence anyway).
 */
function untilAborted<T>(
  work: PromiseLike<T>,
  signal: AbortSignal,
  options: RunTaskOptions,
): Promise<T> {
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      reject(signal.reason);
      watchOverstay(work, signal.reason, options); // reported if it still runs killAfterMs later
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
}

/** Runs a store write under the claim's fence; a lost fence means a late result, discarded. */
async function settle(
  attempt: Attempt<RunTaskOptions>,
  write: () => Promise<FinishResult>,
  announce: { kind: RunOutcome; extra: Record<string, Json>; event?: string },
): Promise<RunOutcome> {
  const { options } = attempt;
  const { task } = options;
  try {
    const writing = write();
    void attempt.claimNext().catch(() => null);
    const { task: updated, dependents } = await writing;
    options.emit(taskEvent(announce.event ?? announce.kind, updated, announce.extra));
    if (dependents.length === 0) return announce.kind;
    for (const init of transitionEvents(dependents, `dependency ${task.id} ${updated.state}`)) {
      options.emit(init);
    }
    const released = dependents.filter((d) => d.task.state === "queued").length;
    if (released) options.ready(released);
    return announce.kind;
  } catch (err) {
    if (err instanceof LeaseLostError) {
      options.deps.log.warn("late result discarded: the lease was lost (fencing)", {
        ...taskFields(task),
        fence: task.fence,
        worker: options.workerId,
        outcome: announce.kind,
      });
      return "lease-lost";
    }
    throw err;
  }
}

async function onFailure(
  attempt: Attempt<RunTaskOptions>,
  err: unknown,
  abortReason: unknown,
  started: number,
): Promise<RunOutcome> {
  const { options } = attempt;
  const { deps, task } = options;
  const now = deps.now();
  if (abortReason === "cancelled") {
    deps.log.info("task cancelled while running", {
      ...taskFields(task),
      worker: options.workerId,
    });
    return "cancelled";
  }
  if (abortReason instanceof LeaseExpiredError) {
    deps.log.warn("attempt abandoned: lease lost", {
      ...taskFields(task),
      worker: options.workerId,
    });
    return "lease-lost";
  }
  // Events that end an attempt say how long it ran (un_task_run_seconds).
  const durationMs = now - started;
  if (abortReason === "shutdown") {
    // Hand the task back: due again now, so another worker (or the next start) takes it.
    const error: TaskError = {
      message: "handed back at shutdown before it finished",
      attempt: task.attempts,
    };
    return await safely(
      options,
      () =>
        settle(attempt, () => deps.store.fail(task.id, task.fence, error, now, now), {
          kind: "handed-back",
          event: "retrying",
          extra: { error: error.message, reason: "shutdown", retryAt: now, durationMs },
        }),
    );
  }
  const e = err instanceof Error ? err : new Error(String(err));
  const permanent = e instanceof PermanentError || e.name === "PermanentError";
  const error: TaskError = {
    message: e.message || e.name,
    name: e.name,
    stack: e.stack?.split("\n").slice(0, 8).join("\n"),
    attempt: task.attempts,
    ...(permanent ? { permanent: true } : {}),
  };
  recordRun(deps, task, durationMs, false);
  const backoff = {
    baseMs: deps.config.workers.backoffBaseMs,
    maxMs: deps.config.workers.backoffMaxMs,
  };
  if (!permanent && task.attempts < task.maxAttempts) {
    const delayMs = retryDelayMs(task.attempts, backoff);
    const capMs = backoffMs(task.attempts, backoff);
    deps.log.info("attempt failed; retrying", {
      ...taskFields(task),
      attempt: task.attempts,
      delayMs,
      error: error.message,
    });
    return await safely(
      options,
      () =>
        settle(attempt, () => deps.store.fail(task.id, task.fence, error, now + delayMs, now), {
          kind: "retrying",
          extra: { error: error.message, delayMs, capMs, retryAt: now + delayMs, durationMs },
        }),
    );
  }
  const kind = permanent ? "failed" : "dead";
  deps.log.warn(`task ${kind}`, {
    ...taskFields(task),
    attempts: task.attempts,
    error: error.message,
  });
  return await safely(
    options,
    () =>
      settle(attempt, () => deps.store.fail(task.id, task.fence, error, null, now), {
        kind,
        extra: { error: error.message, durationMs },
      }),
  );
}

/**
 * Counts a finished attempt in the learned statistics: through the process's
 * accumulator (one store write per type per second), or on its own without one.
 */
function recordRun(
  deps: RuntimeDeps<TaskStore>,
  { type, payload }: Task,
  durationMs: number,
  ok: boolean,
): void {
  if (deps.runStats) return deps.runStats.record(type, durationMs, ok, payload);
  // Learned scores are best effort: a store that is away must not reject unhandled.
  deps.store.recordRuns(type, { runs: 1, failures: ok ? 0 : 1, meanMs: durationMs }, deps.now())
    .catch(() => {});
}

/** A store that fails while recording an outcome: log it; the lease reaper puts the task back. */
async function safely(options: RunTaskOptions, fn: () => Promise<RunOutcome>): Promise<RunOutcome> {
  try {
    return await fn();
  } catch (err) {
    return unrecorded(options, err);
  }
}

function unrecorded(options: RunTaskOptions, err: unknown): RunOutcome {
  options.deps.log.error("could not record the task's outcome; its lease will expire", {
    ...taskFields(options.task),
    error: err,
  });
  return "lease-lost";
}

/** Results are kept on the task; events carry only a short form. */
function summarize(result: Json): Json {
  const text = JSON.stringify(result);
  return text !== undefined && text.length <= 1_024 ? result : { truncated: true };
}
