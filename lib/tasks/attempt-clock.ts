/**
 * One timer for every running attempt of the process, instead of a
 * `setTimeout` (handler timeout) and a `setInterval` (lease renewal) made and
 * cleared per task. Most tasks end long before either is due, so per task the
 * clock costs a Set insert and delete; the one timer is armed for the earliest
 * due time among the attempts and only re-armed when that changes. Times are
 * exact (the timer fires when the earliest entry is due, not on a coarse tick)
 * and monotonic (`performance.now()`), like the timers it replaces.
 */

/** setTimeout's longest delay; a later due time is reached by re-arming when it fires. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Something to call back at a time.
 */
export interface ClockEntry {
  /** When to call {@link ClockEntry.fire} (`performance.now()` ms); `Infinity` = never. */
  due: number;
  /** Called at or after `due`; returns the next due time (`Infinity` = no more). */
  fire(now: number): number;
}

/**
 * A multiplexed timer: entries are called back when due; the timer exists
 * only while entries do, so an idle process (or a finished test) holds none.
 *
 * @example
 * ```ts
 * const clock = new AttemptClock();
 * const entry = { due: performance.now() + 500, fire: () => (console.log("due"), Infinity) };
 * clock.add(entry);
 * clock.delete(entry); // the attempt ended first: nothing fires
 * ```
 */
export class AttemptClock {
  readonly #entries = new Set<ClockEntry>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** The due time the timer is armed for (`Infinity` = not armed). */
  #armedFor = Infinity;

  /** Entries being watched. */
  get size(): number {
    return this.#entries.size;
  }

  /** Watches `entry` until {@link AttemptClock.delete}. */
  add(entry: ClockEntry): void {
    this.#entries.add(entry);
    if (entry.due < this.#armedFor) this.#arm(entry.due);
  }

  /** Stops watching `entry`. The timer stays armed for others (re-armed lazily when it fires). */
  delete(entry: ClockEntry): void {
    this.#entries.delete(entry);
    if (this.#entries.size === 0) this.#disarm();
  }

  #arm(due: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#armedFor = due;
    this.#timer = due === Infinity ? null : setTimeout(
      () => this.#fire(),
      Math.min(MAX_DELAY_MS, Math.max(0, due - performance.now())),
    );
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#armedFor = Infinity;
  }

  #fire(): void {
    this.#timer = null;
    this.#armedFor = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const entry of this.#entries) {
      if (entry.due <= now) {
        try {
          entry.due = entry.fire(now);
        } catch {
          // A callback's failure is its own; the others still fire.
          entry.due = Infinity;
        }
      }
      // fire() may have deleted the entry (or others): only watched ones count.
      if (entry.due < next && this.#entries.has(entry)) next = entry.due;
    }
    if (next < this.#armedFor) this.#arm(next);
  }
}
