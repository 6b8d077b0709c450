/**
 * Gathers the events that parts of one actor make in a burst (the workers of
 * a pool, woken together by one store reply, each finishing a task and
 * starting the next) and sends them to the supervisor as one
 * `event.emitMany` message once the burst's microtasks have run: one routed
 * message instead of one per event, in the order they were made. Nothing
 * waits for a timer, so nothing is left behind when the runtime stops.
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

  constructor(private readonly send: (inits: EventInit[]) => void) {}

  /** Queues one event; the batch goes at the end of the current burst of microtasks. */
  add(init: EventInit): void {
    this.#pending.push(init);
    if (this.#pending.length === 1) queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    const inits = this.#pending;
    this.#pending = [];
    if (inits.length) this.send(inits);
  }
}
