/**
 * Gathers the events that parts of one actor make in a burst (the workers of
 * a pool, woken together by one store reply, each finishing a task and
 * starting the next) and sends them to the supervisor as one
 * `event.emitMany` message on the next macrotask: one routed message instead
 * of one per event, in the order they were made. The pool calls `flush()`
 * once its workers are drained, so a stopping runtime logs their last events;
 * after a crash the pending batch still goes to the (living) supervisor.
 */

import type { EventInit } from "./events.ts";

/**
 * A batch of events on their way to the supervisor.
 *
 * @example
 * ```ts
 * const batch = new EmitBatch((inits) => supervisor.send({ type: "event.emitMany", inits }));
 * batch.add({ type: "task.started", source: "/un/tasks" });
 * batch.add({ type: "task.succeeded", source: "/un/tasks" }); // both go in one message
 * ```
 */
export class EmitBatch {
  #pending: EventInit[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly send: (inits: EventInit[]) => void) {}

  /** Queues one event; the batch goes on the next macrotask. */
  add(init: EventInit): void {
    this.#pending.push(init);
    // A macrotask, not a microtask: a worker's outcome and its next task's
    // start come a few microtasks apart, and should share the message.
    this.#timer ??= setTimeout(() => this.flush(), 0);
  }

  /** Sends what is queued now. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const inits = this.#pending;
    this.#pending = [];
    if (inits.length) this.send(inits);
  }
}
