/**
 * Typed errors. Every error a client can cause carries an HTTP status and a
 * stable `code`, so routes and the CLI turn it into
 * `{ "error": { "code", "message", "details" } }` without guessing.
 */

/** Details attached to an error: the field, the value and what is allowed. */
export type ErrorDetails = Record<string, unknown>;

/**
 * Base class of every error `un` raises on purpose.
 *
 * @example
 * ```ts
 * throw new UnError("bad_thing", "thing must be 1..9, got 0", 400, { field: "thing" });
 * ```
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
 *
 * @example
 * ```ts
 * throw new ValidationError("priority must be 0..9, got 12", { field: "priority", value: 12 });
 * ```
 */
export class ValidationError extends UnError {
  constructor(message: string, details: ErrorDetails = {}) {
    super("invalid_request", message, 400, details);
  }
}

/**
 * A task, source or other thing that does not exist.
 *
 * @example
 * ```ts
 * throw new NotFoundError("task", "01J...");
 * ```
 */
export class NotFoundError extends UnError {
  constructor(kind: string, id: string) {
    super("not_found", `${kind} ${id} not found`, 404, { kind, id });
  }
}

/**
 * The request is well formed but the thing is in a state that does not allow it
 * (retrying a running task, cancelling a finished one).
 *
 * @example
 * ```ts
 * throw new ConflictError("task 01J... is succeeded; only failed, dead or cancelled tasks can be retried");
 * ```
 */
export class ConflictError extends UnError {
  constructor(message: string, details: ErrorDetails = {}) {
    super("conflict", message, 409, details);
  }
}

/**
 * `dependsOn` would make a cycle.
 *
 * @example
 * ```ts
 * throw new CycleError(["a", "b", "a"]);
 * ```
 */
export class CycleError extends UnError {
  constructor(cycle: string[]) {
    super("dependency_cycle", `dependsOn makes a cycle: ${cycle.join(" -> ")}`, 400, { cycle });
  }
}

/**
 * A worker tried to finish, fail, renew or report progress on a task whose lease
 * it no longer holds (the lease expired and the task was claimed again, or the
 * task was cancelled). Its late result is discarded.
 *
 * @example
 * ```ts
 * throw new LeaseLostError("01J...", 3);
 * ```
 */
export class LeaseLostError extends UnError {
  constructor(readonly taskId: string, readonly fence: number) {
    super("lease_lost", `task ${taskId}: lease ${fence} is no longer held`, 409, { taskId, fence });
  }
}

/**
 * A dependency the request needs (Redis, the store) is not reachable right now.
 *
 * @example
 * ```ts
 * throw new UnavailableError("redis is unreachable; try again when /health is ok");
 * ```
 */
export class UnavailableError extends UnError {
  constructor(message: string, details: ErrorDetails = {}) {
    super("unavailable", message, 503, details);
  }
}

/**
 * Thrown by a handler to fail a task without further retries (like BullMQ's
 * `UnrecoverableError`).
 *
 * @example
 * ```ts
 * throw new PermanentError("input file is not a PDF");
 * ```
 */
export class PermanentError extends Error {
  override name = "PermanentError";
}
