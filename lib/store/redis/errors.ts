/**
 * Turns errors of Redis calls into the typed errors of `lib/errors.ts`: the
 * error replies of our scripts, and connection failures.
 */

import {
  ConflictError,
  CycleError,
  LeaseLostError,
  NotFoundError,
  OutOfMemoryError,
  QueueFullError,
  UnavailableError,
  ValidationError,
} from "../../errors.ts";
import { batchTaken } from "../batch-store.ts";
import { connectionReason } from "./connection.ts";

/**
 * What a failing call was about, so its error can name it.
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
 * Replies of a Redis that is up but cannot serve now: loading its data after
 * a restart, busy with a long script, a replica cut off from its primary,
 * out of memory, or unable to persist. Worth a retry, like an outage.
 */
const REFUSING = /^(LOADING|BUSY|MASTERDOWN|READONLY|MISCONF|OOM|TRYAGAIN|CLUSTERDOWN) /;

/**
 * The error of a call that could not reach Redis.
 */
export function unreachable(reason: string, context: ErrorContext): UnavailableError {
  return new UnavailableError(`redis is unreachable (${reason}); try again when /health is ok`, {
    op: context.op,
    reason,
  });
}

/**
 * Maps an error of a Redis call to the store's typed errors: a script's
 * `LEASE_LOST`, `NOT_FOUND`, `CONFLICT <state>`, `ID_TAKEN <id>`, `BATCH_TAKEN <id>`, `VALIDATION
 * <json>`, `CYCLE <json>` and `QUEUE_FULL <json>` replies, and connection failures or a Redis that cannot
 * serve now (LOADING, BUSY, OOM…) → UnavailableError (503). Anything else is
 * returned as it is.
 */
export function storeError(error: unknown, context: ErrorContext): unknown {
  if (!(error instanceof Error)) return error;
  if (error.name !== "ReplyError") {
    const reason = connectionReason(error);
    // Anything else is a bug of ours (a bad reply, a TypeError): kept as it
    // is, so it is logged as one and not passed off as an outage.
    return reason === null ? error : unreachable(reason, context);
  }
  // A MULTI whose commands Redis refused (out of memory, say) fails as
  // EXECABORT; the refusal itself is the reason worth naming.
  const previous = (error as { previousErrors?: unknown[] }).previousErrors?.[0];
  if (/^EXECABORT /.test(error.message) && previous instanceof Error) {
    return storeError(previous, context);
  }
  if (isOutOfMemory(error)) {
    return new OutOfMemoryError(
      `redis is out of memory (${
        error.message.replace(/\.?( script: .*)?$/, "")
      }); try again when /health is ok`,
      { op: context.op, reason: "oom" },
    );
  }
  if (REFUSING.test(error.message)) {
    return new UnavailableError(
      `redis cannot serve the request now (${error.message}); try again when /health is ok`,
      { op: context.op },
    );
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
    case "BATCH_TAKEN":
      return batchTaken(detail);
    case "ID_TAKEN":
      return new ConflictError(`task id ${detail} already exists`, { field: "id", value: detail });
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
    case "QUEUE_FULL": {
      const full = JSON.parse(detail) as { queue: string; size: number; maxSize: number };
      return new QueueFullError(full.queue, full.size, full.maxSize);
    }
    default:
      return error;
  }
}

/**
 * True for Redis's refusal of a write at `maxmemory`, as a command's reply or
 * as a script's error (which adds where in the script it happened).
 */
export function isOutOfMemory(error: unknown): boolean {
  return error instanceof Error && /^OOM command not allowed/.test(error.message);
}
