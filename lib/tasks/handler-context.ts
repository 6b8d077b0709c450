/**
 * The `ctx` a handler gets with its task. A class rather than an object
 * literal: a literal with a getter (the lazy `log`) is built property by
 * property in dictionary mode, ~1.5 µs per task here against ~0.2 µs for an
 * instance, and every task of a busy pool makes one.
 */

import type { EventInit, Json } from "../events/cloud-event.ts";
import type { ChildOutcome, HandlerContext, WaitForChildrenOptions } from "../handlers/types.ts";
import { type Logger, taskFields, withFields } from "../log.ts";
import type { RuntimeDeps } from "../protocol/deps.ts";
import type { TaskStore } from "../store/types.ts";
import { taskEvent } from "./task-events.ts";
import { enqueueChildren, type EnqueueTasks, waitForChildren } from "./children.ts";
import type { Task } from "./task.ts";

/** What a task's context needs of the attempt (the options of `runTask` fit). */
export interface ContextSource {
  deps: RuntimeDeps<TaskStore>;
  task: Task;
  workerId: string;
  emit(init: EventInit): void;
  /** Creates tasks through the prioritizer (`ctx.enqueue`); absent: the context cannot. */
  enqueue?: EnqueueTasks;
  /** Lends the worker's slot while `ctx.waitForChildren` waits (the pool's; see lib/tasks/children.ts). */
  park?: () => () => void;
}

/**
 * A handler's context for one attempt. `progress` and `emit` are own
 * properties, so a handler may take them out of `ctx` and call them alone.
 */
export class TaskContext implements HandlerContext {
  signal: AbortSignal;
  attempt: number;
  workerId: string;
  readonly #source: ContextSource;
  #log: Logger | undefined;

  constructor(source: ContextSource, signal: AbortSignal) {
    this.#source = source;
    this.signal = signal;
    this.attempt = source.task.attempts;
    this.workerId = source.workerId;
  }

  /** Made on first use: most handlers never log, and a logger per task is garbage. */
  get log(): Logger {
    const { deps, task } = this.#source;
    return (this.#log ??= withFields(deps.log.child(`task:${task.type}`), taskFields(task)));
  }

  progress = async (fraction: number, message?: string): Promise<void> => {
    const { deps, task } = this.#source;
    const f = Math.min(1, Math.max(0, Number(fraction) || 0));
    await deps.store.progress(task.id, task.fence, f, message ?? null);
    this.#source.emit(taskEvent("progress", task, { progress: f, message: message ?? null }));
  };

  // Methods, not own properties like progress and emit: few handlers fan
  // out, and every task's context would otherwise make two more closures.
  enqueue(requests: unknown): Promise<string[]> {
    return enqueueChildren(this.#fanOut(), requests);
  }

  waitForChildren(options?: WaitForChildrenOptions): Promise<ChildOutcome[]> {
    return waitForChildren(this.#fanOut(), this.progress, this.signal, options);
  }

  #fanOut() {
    const { deps, task, enqueue, park } = this.#source;
    return { task, store: deps.store, enqueue, park, emit: this.#source.emit, now: deps.now };
  }

  emit = (type: string, data?: Json): void => {
    const { task } = this.#source;
    this.#source.emit({
      type,
      source: `/un/tasks/${task.id}`,
      data: data ?? null,
      correlationid: task.correlationId ?? task.id,
    });
  };
}
