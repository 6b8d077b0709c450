/**
 * Handlers: the functions that do a task's work, `(task, ctx) => result`.
 * A handler's failure is a task failure, never an actor crash.
 */

import type { Json } from "../events/cloud-event.ts";
import type { Logger } from "../log.ts";
import type { Task, TaskError, TaskState } from "../tasks/task.ts";
import type { TaskRequest } from "../protocol/messages.ts";

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
  /**
   * Creates child tasks in one atomic step, through the same checks as
   * `POST /un/tasks/create` (a bad request throws a ValidationError naming
   * it, and nothing is created). They carry `parentId` and form the batch
   * named by this task's id. Resolves with their ids, in order. Not in
   * isolated handlers (`workers.isolate`).
   */
  enqueue(requests: ChildRequest | ChildRequest[]): Promise<string[]>;
  /**
   * Resolves once every child (every task made by `enqueue`, in any attempt
   * of this task) has ended, with their outcomes, oldest first. Meanwhile
   * this task's progress follows theirs. The task keeps its lease, and its
   * worker's slot goes to a stand-in worker until the wait ends (the pool's
   * `concurrency` counts workers that work); `signal` (cancel, timeout) ends
   * the wait. No children: `[]`.
   */
  waitForChildren(options?: WaitForChildrenOptions): Promise<ChildOutcome[]>;
}

/**
 * A child task as a handler asks for it: the body of `POST /un/tasks/create`
 * (times as epoch ms or ISO 8601 text).
 */
export type ChildRequest =
  & Omit<TaskRequest, "runAt" | "deadline" | "expiresAt" | "parentId" | "batchId">
  & { runAt?: number | string; deadline?: number | string; expiresAt?: number | string };

/** Options of {@link HandlerContext.waitForChildren}. */
export interface WaitForChildrenOptions {
  /** How often the children are counted (default 100 ms). */
  pollMs?: number;
}

/** A child task as {@link HandlerContext.waitForChildren} gives it. */
export interface ChildOutcome {
  id: string;
  type: string;
  state: TaskState;
  result: Json | null;
  error: TaskError | null;
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
