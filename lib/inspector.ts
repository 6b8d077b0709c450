/**
 * The inspector's memory: the last routed messages (a ring buffer) and live
 * listeners. Fed by XState's `inspect` hook on the actor system.
 */

import type { InspectRecord } from "./control.ts";

/**
 * Keeps recent messages between actors and tells listeners about new ones.
 *
 * @example
 * ```ts
 * const inspector = new Inspector(500);
 * inspector.record("worker-1", "supervisor", "event.emit", "task.started");
 * inspector.recent(10);
 * ```
 */
export class Inspector {
  #buffer: InspectRecord[] = [];
  #seq = 0;
  #listeners = new Set<(r: InspectRecord) => void>();

  constructor(private readonly capacity: number) {}

  /** Records one message. */
  record(from: string, to: string, type: string, summary?: string): void {
    const record: InspectRecord = { seq: ++this.#seq, at: Date.now(), from, to, type };
    if (summary) record.summary = summary;
    this.#buffer.push(record);
    if (this.#buffer.length > this.capacity) {
      this.#buffer.splice(0, this.#buffer.length - this.capacity);
    }
    for (const listener of this.#listeners) {
      try {
        listener(record);
      } catch {
        // a broken listener (closed SSE stream) must not affect routing
      }
    }
  }

  /** The newest `limit` records, oldest first. */
  recent(limit: number): InspectRecord[] {
    return this.#buffer.slice(-limit);
  }

  /** Adds a live listener; returns the function that removes it. */
  subscribe(fn: (r: InspectRecord) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }
}
