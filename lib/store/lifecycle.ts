/**
 * The store as one thing: which kind it is, whether it answers, retention
 * (one pass over tasks and events together, so it belongs to neither side
 * alone) and close.
 */

/** Retention: what {@link StoreLifecycle.trim} removes. */
export interface RetentionPolicy {
  /** Finished tasks beyond this count (oldest first) are removed. */
  maxFinishedTasks: number;
  /** Finished tasks older than this (by finishedAt) are removed. */
  finishedTaskMaxAgeMs: number;
  /** Results of succeeded tasks older than this are cleared (the task stays). */
  resultTtlMs: number;
  /** Events beyond this count (oldest first) are removed. */
  maxEvents: number;
  /** Events older than this are removed. */
  eventMaxAgeMs: number;
}

/**
 * What one {@link StoreLifecycle.trim} removed: tasks, events, and results
 * cleared. A type, not an interface, so it can be logged as fields as it is.
 */
export type TrimResult = { tasks: number; events: number; results: number };

/** Kind, health, retention and close. */
export interface StoreLifecycle {
  /** `sqlite` or `redis`. */
  readonly kind: string;
  /** Removes finished tasks, old events and expired results by `policy`. */
  trim(policy: RetentionPolicy, now: number): Promise<TrimResult>;
  /** Cheap round trip: throws when the store cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
