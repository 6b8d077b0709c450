/**
 * Waiting and backing off inside the bridge's loops, so a Redis outage makes
 * them retry calmly instead of spinning or crashing the actor.
 */

import { backoffMs } from "../../../backoff.ts";

/**
 * Resolves after `ms`, or at once when `signal` aborts (the bridge is stopping).
 */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Exponential backoff with jitter: 100 ms, ~200 ms, ... up to `maxMs`.
 */
export class Backoff {
  #attempt = 0;

  constructor(readonly minMs = 100, readonly maxMs = 5_000) {}

  /** The next wait: doubles per failure, with up to 25 % jitter so processes do not retry in step. */
  next(): number {
    return backoffMs(++this.#attempt, { baseMs: this.minMs, maxMs: this.maxMs, jitter: 0.25 });
  }

  /** After a success: the next failure waits `minMs` again. */
  reset(): void {
    this.#attempt = 0;
  }

  /** Failures since the last success. */
  get failures(): number {
    return this.#attempt;
  }
}
