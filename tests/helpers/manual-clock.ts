/**
 * A clock that moves only when the test says so: timers fire in due order
 * (ties in the order they were armed) as {@link ManualClock.advance} passes
 * their time, so a test of a duration is exact and takes no wall time.
 */

import { setImmediate } from "node:timers";
import type { Clock, TimerHandle } from "../../lib/clock.ts";

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A manual {@link Clock}.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const debouncer = new Debouncer({ ...options, clock });
 * debouncer.add("a", 1);
 * await clock.advance(49); // not yet
 * await clock.advance(1); // flushed, exactly at 50 ms
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers: Timer[] = [];

  /** Starts at `start` epoch ms (an arbitrary fixed instant by default). */
  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.#nextId++, at: this.#now + Math.max(0, ms), fn };
    this.#timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }

  /** Timers armed and not yet fired or cleared. */
  get pending(): number {
    return this.#timers.length;
  }

  /**
   * Stands in for the global `setTimeout`, `clearTimeout` and `performance.now`
   * (ms since this call) until disposed: for a module that reads them directly
   * and takes no clock.
   */
  installGlobally(): Disposable {
    const saved = { setTimeout, clearTimeout, now: performance.now };
    const origin = this.#now;
    const g = globalThis as unknown as Record<string, unknown>;
    g.setTimeout = (fn: () => void, ms = 0) => this.setTimeout(fn, ms);
    g.clearTimeout = (handle: TimerHandle) => this.clearTimeout(handle);
    performance.now = () => this.#now - origin;
    return {
      [Symbol.dispose]: () => {
        g.setTimeout = saved.setTimeout;
        g.clearTimeout = saved.clearTimeout;
        performance.now = saved.now;
      },
    };
  }

  /**
   * Moves time forward by `ms`, firing each timer that comes due at its own
   * time; the work each one starts (promises, I/O already answered) settles
   * before the clock moves on, so a timer it arms is seen too.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await settle();
      const next = this.#due(end);
      if (next === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = next.at;
      next.fn();
    }
    this.#now = end;
    await settle();
  }

  /** The earliest timer due by `end` (the first armed among equals). */
  #due(end: number): Timer | undefined {
    let first: Timer | undefined;
    for (const t of this.#timers) {
      if (t.at <= end && (first === undefined || t.at < first.at)) first = t;
    }
    return first;
  }
}

/**
 * Lets the work under way settle: promise callbacks, and chains of
 * `setImmediate` hops such as the embedded store's group commit (one hop per
 * write a tick awaits). Each round waits behind what was queued before it.
 */
async function settle(): Promise<void> {
  for (let round = 0; round < 50; round++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
