/**
 * Handlers: the functions that do a task's work, `(task, ctx) => result`.
 * A handler's failure is a task failure, never an actor crash.
 */

import type { Json } from "../events/cloud-event.ts";
import type { Logger } from "../log.ts";
import type { Task } from "../tasks/task.ts";

/** What a handler gets besides the task. */
export interface HandlerContext {
  /** Aborted on timeout (`timeoutMs`), cancel, lost lease or shutdown past the grace period. */
  signal: AbortSignal;
  /** Reports progress (0..1) with an optional message; shows in `GET /un/tasks/:id` and `task.progress` events. */
  progress(fraction: number, message?: string): Promise<void>;
  /** Publishes an event on the bus (type, data), correlated with this task. */
  emit(type: string, data?: Json): void;
  log: Logger;
  /** 1 on the first run. */
  attempt: number;
  workerId: string;
}

/** A task whose payload is typed. */
export type TypedTask<P> = Omit<Task, "payload"> & { payload: P };

/** A handler. `P` is the payload type, `R` the result type. */
export type Handler<P = Json, R = Json> = (
  task: TypedTask<P>,
  ctx: HandlerContext,
) => R | Promise<R>;

/** Handlers by task type. */
export type HandlerMap = Record<string, Handler>;

/**
 * Types a handler for a handlers module.
 *
 * @example
 * ```ts
 * // handlers.ts, named by `"handlers": "./handlers.ts"` in un.config.json
 * import { defineHandler } from "un/mod.ts";
 * export default {
 *   "embed": defineHandler<{ path: string }, { chars: number }>(async (task, ctx) => {
 *     const text = await Deno.readTextFile(task.payload.path);
 *     await ctx.progress(1, "read");
 *     return { chars: text.length };
 *   }),
 * };
 * ```
 */
export function defineHandler<P = Json, R = Json>(handler: Handler<P, R>): Handler {
  return handler as unknown as Handler;
}
