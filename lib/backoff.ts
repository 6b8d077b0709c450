/**
 * Exponential backoff: the one formula behind every wait after a failure
 * (task retries, reconnects, poll failures, the event log's outage, the
 * bridge's loops, actor restarts).
 *
 * Hand-written rather than taken from npm: the packages there (`exponential-backoff`,
 * `p-retry`, `backoff`) run the retry loop themselves, while here the wait
 * goes elsewhere (a task row's `runAt`, an XState delayed event, a timer the
 * caller owns), so only the number is shared, and it is ten lines.
 */

/** How waits grow: `baseMs` after the first failure, doubling up to `maxMs`. */
export interface BackoffPolicy {
  /** The wait after the first failure. */
  baseMs: number;
  /** The longest wait. */
  maxMs: number;
  /**
   * The share of each wait that is random, 0..1 (default 0): a wait falls
   * between `(1 - jitter) · cap` and `cap`. 1 is AWS's "full jitter", which
   * spreads processes that failed together; 0.25 only keeps them out of step.
   */
  jitter?: number;
}

/** 250 ms doubling to 30 s: quick after one dropped connection, gentle on a server that stays down. */
export const RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 250, maxMs: 30_000 };

/**
 * The wait before retry `retry` (1-based: the count of consecutive failures so
 * far): `min(maxMs, baseMs · 2^(retry - 1))`, less a random share of up to
 * `jitter` of it. Counts below 1 wait `baseMs`.
 *
 * @example
 * ```ts
 * backoffMs(1, { baseMs: 250, maxMs: 30_000 }); // 250
 * backoffMs(3, { baseMs: 250, maxMs: 30_000 }); // 1000
 * backoffMs(3, { baseMs: 1000, maxMs: 60_000, jitter: 1 }, () => 0.5); // 2000
 * ```
 */
export function backoffMs(
  retry: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  // The exponent is clamped so 2^n stays finite (0 · ∞ would be NaN) for
  // things that fail for days.
  const doublings = Math.min(Math.max(retry - 1, 0), 1_023);
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** doublings);
  const jitter = policy.jitter ?? 0;
  if (jitter <= 0) return cap;
  return Math.round(cap * (1 - jitter + jitter * random()));
}
