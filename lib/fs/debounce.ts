/**
 * Per-key debounce with a ceiling: a key is flushed `waitMs` after its last
 * touch, but no later than `maxWaitMs` after its first pending touch (so a
 * file written continuously is still reported). One timer serves every key,
 * so a burst of thousands of paths costs one timer, not thousands.
 */

import { type Clock, systemClock, type TimerHandle } from "../clock.ts";

/** How a {@link Debouncer} behaves. */
export interface DebounceOptions<V> {
  waitMs: number;
  maxWaitMs: number;
  /** Combines the value already pending for a key with a new one. */
  merge(pending: V, next: V): V;
  /** Receives every key that came due, with its merged value. */
  onFlush(batch: Map<string, V>): void;
  /** Time and the timer (default {@link systemClock}; tests pass a manual one). */
  clock?: Clock;
}

interface Pending<V> {
  first: number;
  last: number;
  value: V;
}

/**
 * A per-key debouncer.
 *
 * @example
 * ```ts
 * const d = new Debouncer<number>({
 *   waitMs: 50,
 *   maxWaitMs: 1_000,
 *   merge: (a, b) => a + b,
 *   onFlush: (batch) => console.log([...batch]), // [["a.txt", 3]]
 * });
 * d.add("a.txt", 1);
 * d.add("a.txt", 2);
 * // ...later: d.close();
 * ```
 */
export class Debouncer<V> {
  readonly #options: DebounceOptions<V>;
  readonly #clock: Clock;
  readonly #pending = new Map<string, Pending<V>>();
  #timer: TimerHandle | null = null;
  #timerAt = Infinity;
  #closed = false;

  constructor(options: DebounceOptions<V>) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Keys waiting to be flushed. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Touches `key` with `value` (merged into what is pending).
   */
  add(key: string, value: V): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    const pending = this.#pending.get(key);
    if (pending) {
      pending.last = now;
      pending.value = this.#options.merge(pending.value, value);
    } else {
      this.#pending.set(key, { first: now, last: now, value });
    }
    // A later touch only moves this key's due time later, so the timer moves
    // only when this key is due before it.
    this.#arm(this.#dueAt(this.#pending.get(key)!));
  }

  /** True when `key` is waiting to be flushed. */
  has(key: string): boolean {
    return this.#pending.has(key);
  }

  /**
   * Drops everything pending (nothing is flushed); later `add`s work as usual.
   */
  clear(): void {
    this.#pending.clear();
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = Infinity;
  }

  /**
   * Drops everything pending and the timer. Later `add`s are ignored.
   */
  close(): void {
    this.#closed = true;
    this.#pending.clear();
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #dueAt(p: Pending<V>): number {
    return Math.min(p.last + this.#options.waitMs, p.first + this.#options.maxWaitMs);
  }

  #arm(at: number): void {
    if (this.#timer !== null && at >= this.#timerAt) return;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.max(0, at - this.#clock.now()));
  }

  #fire(): void {
    this.#timer = null;
    this.#timerAt = Infinity;
    const now = this.#clock.now();
    const batch = new Map<string, V>();
    let next = Infinity;
    for (const [key, p] of this.#pending) {
      const due = this.#dueAt(p);
      if (due <= now) {
        batch.set(key, p.value);
        this.#pending.delete(key);
      } else {
        next = Math.min(next, due);
      }
    }
    if (next !== Infinity) this.#arm(next);
    if (batch.size > 0) this.#options.onFlush(batch);
  }
}
