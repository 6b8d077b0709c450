/**
 * The in-process event bus: subscribers by type pattern, delivery in order,
 * isolation between subscribers (one that throws is logged and skipped; the
 * others still get the event).
 */

import type { CloudEvent } from "./events.ts";
import { compilePattern, type TypeMatcher } from "./wildcard.ts";

/** A subscriber. It may be async; the bus does not wait for it. */
export type Subscriber = (event: CloudEvent) => void | Promise<void>;

interface Subscription {
  pattern: string;
  matches: TypeMatcher;
  fn: Subscriber;
  name: string;
}

/**
 * Delivers events to subscribers whose pattern matches the event type.
 *
 * @example
 * ```ts
 * const bus = new EventBus((name, err) => console.error(name, err));
 * const off = bus.subscribe("file.*", (e) => console.log(e.subject), "printer");
 * bus.publish(event);
 * off();
 * ```
 */
export class EventBus {
  #subs: Subscription[] = [];
  #onError: (name: string, error: unknown, event: CloudEvent) => void;

  constructor(onError: (name: string, error: unknown, event: CloudEvent) => void) {
    this.#onError = onError;
  }

  /** Adds a subscriber; returns the function that removes it. */
  subscribe(pattern: string, fn: Subscriber, name = pattern): () => void {
    const sub: Subscription = { pattern, matches: compilePattern(pattern), fn, name };
    this.#subs = [...this.#subs, sub];
    return () => {
      this.#subs = this.#subs.filter((s) => s !== sub);
    };
  }

  /** Delivers one event to every matching subscriber. */
  publish(event: CloudEvent): void {
    for (const sub of this.#subs) {
      if (!sub.matches(event.type)) continue;
      try {
        const out = sub.fn(event);
        if (out instanceof Promise) out.catch((err) => this.#onError(sub.name, err, event));
      } catch (err) {
        this.#onError(sub.name, err, event);
      }
    }
  }

  /** Number of subscribers (for /metrics and the inspector). */
  get size(): number {
    return this.#subs.length;
  }
}
