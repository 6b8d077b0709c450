/**
 * One attempt's state while it runs: its options, the next task once asked
 * for, and its handler timeout and lease renewals, watched by the process's
 * one attempt timer (lib/tasks/attempt-clock.ts). One object per task instead
 * of a copy of the options and a closure for each of these: a busy pool of
 * quick tasks makes tens of thousands a second, and each is garbage.
 */

import { AttemptClock, type ClockEntry } from "./attempt-clock.ts";
import type { RuntimeDeps } from "../protocol/deps.ts";
import { taskFields } from "../log.ts";
import type { TaskStore } from "../store/types.ts";
import type { Task } from "./task.ts";

/** Timeouts and lease renewals of every attempt in this process share one timer. */
const ATTEMPT_CLOCK = new AttemptClock();

class TimeoutError extends Error {
  override name = "TimeoutError";
}

/** Why an attempt is stopped when a renewal finds its lease gone. */
export class LeaseExpiredError extends Error {
  override name = "LeaseExpiredError";
}

/** What an {@link Attempt} reads of the options of `runTask` (lib/tasks/run-task.ts). */
export interface AttemptOptions {
  deps: RuntimeDeps<TaskStore>;
  task: Task;
  /** Aborted here on the timeout or a lost lease. */
  controller: AbortController;
  /** Claims the worker's next task (once per attempt, see {@link Attempt.claimNext}). */
  claimNext(): Promise<Task | null>;
}

/**
 * A running attempt, watched from {@link Attempt.start} to {@link Attempt.end}.
 */
export class Attempt<O extends AttemptOptions = AttemptOptions> implements ClockEntry {
  readonly options: O;
  /** The next task, once asked for (the outcome's write asks for it). */
  next: Promise<Task | null> | null = null;
  due: number;
  readonly #deadline: number;
  readonly #timeoutMs: number;
  readonly #renewEveryMs: number;
  #renewAt: number;
  #timedOut = false;
  /**
   * Renewals keep failing while the store is away: said once per attempt. The
   * attempt goes on; if the lease runs out meanwhile, the fence refuses its
   * late result and the reaper hands the task to another worker.
   */
  #renewFailed = false;

  constructor(options: O) {
    this.options = options;
    const { deps, task } = options;
    const workers = deps.config.workers;
    this.#timeoutMs = task.timeoutMs ?? workers.timeoutMs;
    this.#renewEveryMs = Math.max(50, Math.floor(workers.leaseMs / 3));
    const startedAt = performance.now();
    this.#deadline = startedAt + this.#timeoutMs;
    this.#renewAt = deps.faults.noRenew ? Infinity : startedAt + this.#renewEveryMs;
    this.due = Math.min(this.#deadline, this.#renewAt);
  }

  /** Starts watching the timeout and the lease. */
  start(): void {
    ATTEMPT_CLOCK.add(this);
  }

  /** Stops watching them: the attempt ended. */
  end(): void {
    ATTEMPT_CLOCK.delete(this);
  }

  /** Claims the next task once, however often asked. */
  claimNext(): Promise<Task | null> {
    return this.next ??= this.options.claimNext();
  }

  /** Aborts the attempt, unless it was aborted already. */
  abort(reason: unknown): void {
    const { controller } = this.options;
    if (!controller.signal.aborted) controller.abort(reason);
  }

  /** The attempt clock's callback: the timeout, then a renewal when one is due. */
  fire(now: number): number {
    if (!this.#timedOut && now >= this.#deadline) {
      this.#timedOut = true;
      this.abort(new TimeoutError(`timed out after ${this.#timeoutMs}ms`));
    }
    if (now >= this.#renewAt) {
      this.#renewAt = now + this.#renewEveryMs;
      void this.#renew();
    }
    return Math.min(this.#timedOut ? Infinity : this.#deadline, this.#renewAt);
  }

  async #renew(): Promise<void> {
    const { deps, task } = this.options;
    const { log } = deps;
    try {
      const held = await deps.store.renew(
        task.id,
        task.fence,
        deps.config.workers.leaseMs,
        deps.now(),
      );
      if (!held) {
        this.abort(new LeaseExpiredError("lease lost: the task was taken over or cancelled"));
      } else if (this.#renewFailed) log.info("lease renewed again", taskFields(task));
      this.#renewFailed = false;
    } catch (err) {
      if (!this.#renewFailed) {
        log.warn("lease renewal failed; still trying", { ...taskFields(task), error: err });
      }
      this.#renewFailed = true;
    }
  }
}
