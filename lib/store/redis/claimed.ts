/**
 * Tasks this store instance claimed and has not finished yet. While a task
 * runs under one fence, only its progress, progress message and lease change
 * (every other change needs a state the task is not in), so a complete by the
 * same fence can rebuild the finished task from this copy and Redis need not
 * send the whole task back. Bounded: a task whose lease was lost and which
 * this instance never finishes is dropped once newer claims push it out.
 */

import type { Task } from "../../tasks/task.ts";

/**
 * A bounded map of claimed tasks by id (oldest claims are dropped first).
 *
 * @example
 * ```ts
 * const claimed = new ClaimedTasks(10_000);
 * claimed.remember(task);
 * claimed.take(task.id, task.fence); // the task, once
 * ```
 */
export class ClaimedTasks {
  readonly #tasks = new Map<string, Task>();

  constructor(readonly capacity: number) {}

  /** Keeps a task just claimed. */
  remember(task: Task): void {
    this.#tasks.delete(task.id);
    this.#tasks.set(task.id, task);
    if (this.#tasks.size > this.capacity) {
      const oldest = this.#tasks.keys().next();
      if (!oldest.done) this.#tasks.delete(oldest.value);
    }
  }

  /** The copy claimed under `fence`, if this instance has it. */
  peek(id: string, fence: number): Task | undefined {
    const task = this.#tasks.get(id);
    return task?.fence === fence ? task : undefined;
  }

  /** Forgets a task (finished, failed, or no longer ours). */
  forget(id: string): void {
    this.#tasks.delete(id);
  }

  /** How many tasks are kept. */
  get size(): number {
    return this.#tasks.size;
  }
}
