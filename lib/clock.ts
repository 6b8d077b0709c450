/**
 * The time a module reads and the timers it arms, as one dependency. Modules
 * whose behaviour is a duration (a debounce window, a flush interval) take a
 * `Clock` with {@link systemClock} as the default, so their tests can drive a
 * manual clock: exact to the millisecond and without waiting for wall time.
 */

/** A timer armed by {@link Clock.setTimeout}; only its own clock can clear it. */
export type TimerHandle = unknown;

/** Time and one-shot timers. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `fn` once, `ms` from now. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer of this clock that has not fired yet; anything else is ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `Date.now` and the global timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
