/**
 * Queue control in the store: paused queues and rate limits, both checked
 * inside the claim step (one SQL transaction, one Lua script), so every
 * process sharing a store sees the same state and a limit holds exactly
 * across processes. Windows are fixed (`floor(now / perMs)`): over any span
 * of `n` windows at most `n + 1` windows' worth of tasks start.
 */

/** A rate limit: at most `max` task starts per `perMs` window. */
export interface RateLimit {
  max: number;
  perMs: number;
}

/** A queue's rate limit and its current window. */
export interface RateLimitUsage extends RateLimit {
  /** Tasks started in the current window. */
  count: number;
  /** When the current window ends (epoch ms): a limited task waits until then. */
  until: number;
}

/** The queue-control side of the store. */
export interface QueueControl {
  /** Pauses (`true`) or resumes a queue, named or not yet; true when this changed its state. */
  setQueuePaused(queue: string, paused: boolean): Promise<boolean>;
  /** The paused queues, sorted. */
  pausedQueues(): Promise<string[]>;
  /** Replaces the rate limits by queue (from the config; the last process to start sets them). */
  setRateLimits(limits: Record<string, RateLimit>): Promise<void>;
  /** Each limited queue's limit and current window. */
  rateLimitUsage(now: number): Promise<Record<string, RateLimitUsage>>;
}

/** The window `now` falls in, and when it ends. */
export function windowOf(limit: RateLimit, now: number): { index: number; until: number } {
  const index = Math.floor(now / limit.perMs);
  return { index, until: (index + 1) * limit.perMs };
}

/**
 * What a claim run checks per candidate (embedded store): whether its queue
 * may start a task now, and counting the one it starts. Built only when some
 * queue is paused or limited, so the common claim pays nothing.
 */
export class ClaimGate {
  constructor(
    private readonly paused: ReadonlySet<string>,
    private readonly limits: ReadonlyMap<string, RateLimit>,
    private readonly windows: Map<string, { index: number; count: number }>,
  ) {}

  /** False when the queue is paused or its window is full. */
  allows(queue: string, now: number): boolean {
    if (this.paused.has(queue)) return false;
    const limit = this.limits.get(queue);
    if (limit === undefined) return true;
    const { index } = windowOf(limit, now);
    const window = this.windows.get(queue);
    return window === undefined || window.index !== index || window.count < limit.max;
  }

  /** A task of `queue` started at `now`. */
  took(queue: string, now: number): void {
    const limit = this.limits.get(queue);
    if (limit === undefined) return;
    const { index } = windowOf(limit, now);
    const window = this.windows.get(queue);
    if (window === undefined || window.index !== index) {
      this.windows.set(queue, { index, count: 1 });
    } else window.count++;
  }
}

/** What {@link rateLimitsOf} reads of `queues.<name>` in the config. */
export interface QueueRateLimitSettings {
  rateLimit?: RateLimit & { by?: string };
}

/**
 * The per-queue limits of the config's `queues`, for {@link QueueControl.setRateLimits}.
 * A limit by group key (`by`) is not enforced yet: it is left out, with a warning.
 */
export function rateLimitsOf(
  queues: Readonly<Record<string, QueueRateLimitSettings>>,
  log: { warn(message: string, fields?: Record<string, unknown>): void },
): Record<string, RateLimit> {
  const limits: Record<string, RateLimit> = {};
  for (const [queue, { rateLimit }] of Object.entries(queues)) {
    if (rateLimit === undefined) continue;
    // `queues["*"]` holds defaults; a limit shared by every queue is not one of them.
    if (queue === "*") {
      log.warn('queues["*"].rateLimit is ignored: a rate limit is set per queue', {});
      continue;
    }
    if (rateLimit.by !== undefined) {
      log.warn("rate limits by group key are not enforced yet; the queue is not limited", {
        queue,
        by: rateLimit.by,
      });
      continue;
    }
    limits[queue] = { max: rateLimit.max, perMs: rateLimit.perMs };
  }
  return limits;
}
