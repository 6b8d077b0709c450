/**
 * Turns errors of Redis calls into the typed errors of `lib/errors.ts`: the
 * error replies of our scripts, and connection failures.
 */

import {
  ConflictError,
  CycleError,
  LeaseLostError,
  NotFoundError,
  UnavailableError,
  ValidationError,
} from "../../errors.ts";

/**
 * What a failing call was about, so its error can name it.
 *
 * @example
 * ```ts
 * const context: ErrorContext = { op: "complete", taskId: "01J...", fence: 2 };
 * ```
 */
export interface ErrorContext {
  /** The operation, for messages ("retry", "cancel"…). */
  op: string;
  taskId?: string;
  fence?: number;
}

const CONFLICT_HINTS: Record<string, string> = {
  cancel: "only live tasks can be cancelled",
  retry: "only failed, dead, cancelled or expired tasks can be retried",
  reprioritize: "only tasks that have not started can be reprioritized",
};

/**
 * Maps an error of a Redis call to the store's typed errors: a script's
 * `LEASE_LOST`, `NOT_FOUND`, `CONFLICT <state>`, `VALIDATION <json>` and
 * `CYCLE <json>` replies, and connection failures (→ UnavailableError).
 * Anything else is returned as it is.
 *
 * @example
 * ```ts
 * try { await script.run(...); } catch (e) { throw storeError(e, { op: "complete", taskId, fence }); }
 * ```
 */
export function storeError(error: unknown, context: ErrorContext): unknown {
  if (!(error instanceof Error)) return error;
  if (error.name !== "ReplyError") {
    return new UnavailableError(`redis is unreachable: ${error.message}`, { op: context.op });
  }
  // Redis puts "ERR " before a script's error_reply text.
  const text = error.message.replace(/^ERR /, "");
  const space = text.indexOf(" ");
  const code = space < 0 ? text : text.slice(0, space);
  const detail = space < 0 ? "" : text.slice(space + 1);
  const taskId = context.taskId ?? "";
  switch (code) {
    case "LEASE_LOST":
      return new LeaseLostError(taskId, context.fence ?? 0);
    case "NOT_FOUND":
      return new NotFoundError("task", taskId);
    case "CONFLICT":
      return new ConflictError(
        `task ${taskId} is ${detail}; ${CONFLICT_HINTS[context.op] ?? `${context.op} refused`}`,
        { taskId, state: detail },
      );
    case "VALIDATION": {
      const { field, value, message } = JSON.parse(detail) as {
        field: string;
        value: string;
        message: string;
      };
      return new ValidationError(message, { field, value });
    }
    case "CYCLE":
      return new CycleError(JSON.parse(detail) as string[]);
    default:
      return error;
  }
}
