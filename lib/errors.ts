/**
 * Typed errors. Every error a client can cause carries an HTTP status and a
 * stable `code`, so routes and the CLI turn it into
 * `{ "error": { "code", "message", "details" } }` without guessing.
 */

/** Details attached to an error: the field, the value and what is allowed. */
export type ErrorDetails = Record<string, unknown>;

/**
 * Base class of every error `un` raises on purpose.
 */
export class UnError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 500,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** The JSON body routes answer with. */
  toJSON(): { error: { code: string; message: string; details: ErrorDetails } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/**
 * Input that does not fit: names the field, the value and what is allowed.
 */
export class ValidationError extends UnError {
  constructor(message: string, details: ErrorDetails = {}) {
    super("invalid_request", message, 400, details);
  }
}

/**
 * A task, source or other thing that does not exist.
 */
export class NotFoundError extends UnError {
  constructor(kind: string, id: string) {
    super("not_found", `${kind} ${id} not found`, 404, { kind, id });
  }
}

/**
 * The request is well formed but the thing is in a state that does not allow it
 * (retrying a running task, cancelling a finished one).
 */
export class ConflictError extends UnError {
  constructor(message: string, details: ErrorDetails = {}) {
    super("conflict", message, 409, details);
  }
}

/**
 * `dependsOn` would make a cycle.
 */
export class CycleError extends UnError {
  constructor(cycle: string[]) {
    super("dependency_cycle", `dependsOn makes a cycle: ${cycle.join(" -> ")}`, 400, { cycle });
  }
}

/**
 * The queue holds `maxSize` tasks that have not started (queued, scheduled or
 * retrying): a 429, and `retryAfterS` is what the API's `Retry-After` says.
 */
export class QueueFullError extends UnError {
  constructor(
    readonly queue: string,
    readonly size: number,
    readonly maxSize: number,
    readonly retryAfterS: number = 1,
  ) {
    super("queue_full", `queue ${queue} is full (${size} of ${maxSize} tasks waiting)`, 429, {
      queue,
      size,
      maxSize,
    });
  }
}

/**
 * A worker tried to finish, fail, renew or report progress on a task whose lease
 * it no longer holds (the lease expired and the task was claimed again, or the
 * task was cancelled). Its late result is discarded.
 */
export class LeaseLostError extends UnError {
  constructor(readonly taskId: string, readonly fence: number) {
    super("lease_lost", `task ${taskId}: lease ${fence} is no longer held`, 409, { taskId, fence });
  }
}

/**
 * A dependency the request needs (Redis, the store) is not reachable right now.
 */
export class UnavailableError extends UnError {
  constructor(message: string, details: ErrorDetails = {}) {
    super("unavailable", message, 503, details);
  }
}

/**
 * Redis refused a write because it reached `maxmemory` (with the
 * `noeviction` policy): a 503 like an outage, so every part that waits out an
 * outage (workers, the event log) waits this out too, and it says "out of
 * memory" so an operator knows what to free or raise.
 */
export class OutOfMemoryError extends UnavailableError {}

/**
 * The store answers but is not sound: it lost its data, or it refuses writes.
 * Thrown by a store's `ping()`; `/health` lists each of `reasons` as a problem.
 */
export class StoreFaultError extends UnError {
  constructor(readonly reasons: string[]) {
    super("store_fault", reasons.join("; "), 503, { reasons });
  }
}

/**
 * Thrown by a handler to fail a task without further retries (like BullMQ's
 * `UnrecoverableError`).
 */
export class PermanentError extends Error {
  override name = "PermanentError";
}

/**
 * The embedded store's directory or file was deleted or replaced while `un`
 * ran: writes would go to a file nobody will ever open again, so they are
 * refused. It does not heal by itself.
 */
export class StoreGoneError extends UnavailableError {
  override readonly code: string = "store_gone";
}

/**
 * The disk holding the store is full, or failed a write (SQLite's
 * SQLITE_FULL / SQLITE_IOERR): 507 until a write succeeds again.
 */
export class StoreDiskError extends UnavailableError {
  override readonly code: string = "store_disk";
  override readonly status: number = 507;
}

/**
 * The store file is damaged (SQLite's SQLITE_CORRUPT / SQLITE_NOTADB, or a
 * failed `PRAGMA quick_check` at start). Writes are refused so the damage does
 * not spread; `un store check` and `un store recover` are the way out.
 */
export class StoreDamagedError extends UnavailableError {
  override readonly code: string = "store_damaged";
  override readonly status: number = 500;
}

/**
 * Text of a thrown value for logs, statuses and answers: the message (or the
 * value itself when something other than an Error was thrown), plus the
 * cause's message when a wrapping error hides the interesting part (`fetch`
 * failing with "Connection refused" as its cause).
 *
 * @example
 * ```ts
 * errorText(new Error("fetch failed", { cause: new Error("Connection refused") }));
 * // "fetch failed: Connection refused"
 * ```
 */
export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : null;
  return cause && !error.message.includes(cause) ? `${error.message}: ${cause}` : error.message;
}
