/**
 * Queue control in the store: paused queues and rate limits, both checked
 * inside the claim step (one SQL transaction, one Lua script), so every
 * process sharing a store sees the same state and a limit holds exactly
 * across processes. Windows are fixed (`floor(now / perMs)`): over any span
 * of `n` windows at most `n + 1` windows' worth of tasks start.
 */

/**
 * A rate limit: at most `max` task starts per `perMs` window; with `by`, per
 * group key (the template rendered over each task at enqueue, stored with it
 * as `rateGroup`), each group with its own window.
 */
export interface RateLimit {
  max: number;
  perMs: number;
  by?: string;
}

/** A queue's rate limit and its current window. */
export interface RateLimitUsage extends RateLimit {
  /**
   * Tasks started in the current window (with `by`: of every group together,
   * or of one group when {@link QueueControl.rateLimitUsage} was given it).
   */
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
  /**
   * Each limited queue's limit and current window. With `group` (a task's
   * `rateGroup`; null for a task without one), a queue limited by group key
   * shows that group's window instead of the total of its groups.
   */
  rateLimitUsage(now: number, group?: string | null): Promise<Record<string, RateLimitUsage>>;
}

/** The window `now` falls in, and when it ends. */
export function windowOf(limit: RateLimit, now: number): { index: number; until: number } {
  const index = Math.floor(now / limit.perMs);
  return { index, until: (index + 1) * limit.perMs };
}

/**
 * The window a task counts in: its queue's, or with a limit by group key its
 * group's within the queue (a task stored without a group counts in group "").
 */
export function windowName(queue: string, limit: RateLimit, group: string | null): string {
  return limit.by === undefined ? queue : `${queue}\n${group ?? ""}`;
}

/**
 * What a claim run checks per candidate (embedded store): whether its queue
 * (or its group within the queue) may start a task now, and counting the one
 * it starts. Built only when some queue is paused or limited, so the common
 * claim pays nothing. Window counts are keyed by {@link windowName}.
 */
export class ClaimGate {
  constructor(
    private readonly paused: ReadonlySet<string>,
    private readonly limits: ReadonlyMap<string, RateLimit>,
    private readonly windows: Map<string, WindowCount>,
  ) {}

  /** False when the queue is paused or the window of the task's queue or group is full. */
  allows(queue: string, group: string | null, now: number): boolean {
    if (this.paused.has(queue)) return false;
    const limit = this.limits.get(queue);
    if (limit === undefined) return true;
    const { index } = windowOf(limit, now);
    const window = this.windows.get(windowName(queue, limit, group));
    return window === undefined || window.index !== index || window.count < limit.max;
  }

  /** A task of `queue` (and `group`) started at `now`. */
  took(queue: string, group: string | null, now: number): void {
    const limit = this.limits.get(queue);
    if (limit === undefined) return;
    const { index, until } = windowOf(limit, now);
    if (limit.by !== undefined && this.windows.size >= MAX_WINDOWS) prune(this.windows, now);
    count(this.windows, windowName(queue, limit, group), index, until);
    // A limit by group also counts the queue's total, which GET /un/queues shows.
    if (limit.by !== undefined) count(this.windows, queue, index, until);
  }
}

/** A window's count, and when it ends. */
export interface WindowCount {
  index: number;
  count: number;
  until: number;
}

/** Windows kept before ended ones are dropped (groups come and go). */
const MAX_WINDOWS = 10_000;

function count(windows: Map<string, WindowCount>, name: string, index: number, until: number) {
  const window = windows.get(name);
  if (window === undefined || window.index !== index) windows.set(name, { index, count: 1, until });
  else window.count++;
}

function prune(windows: Map<string, WindowCount>, now: number): void {
  for (const [name, window] of windows) if (window.until <= now) windows.delete(name);
}

/** What {@link rateLimitsOf} reads of `queues.<name>` in the config. */
export interface QueueRateLimitSettings {
  rateLimit?: RateLimit & { by?: string };
}

/**
 * The per-queue limits of the config's `queues` (a limit by group key keeps
 * its `by` template), for {@link QueueControl.setRateLimits}.
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
    const { max, perMs, by } = rateLimit;
    limits[queue] = by === undefined ? { max, perMs } : { max, perMs, by };
  }
  return limits;
}
