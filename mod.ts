/**
 * `un`: the module a project's handlers import.
 *
 * A handlers module, named by `"handlers": "./handlers.ts"` in `un.config.json`,
 * exports a record of task type to handler. A handler gets the task and a
 * context (`signal`, `progress`, `emit`, `log`) and returns the task's result;
 * throwing fails the attempt (retried with backoff), throwing
 * {@link PermanentError} fails the task for good.
 *
 * @example
 * ```ts
 * import { defineHandler, PermanentError } from "./mod.ts";
 *
 * export default {
 *   "thumbnail": defineHandler<{ path: string }, { bytes: number }>(async (task, ctx) => {
 *     if (!task.payload.path.endsWith(".png")) throw new PermanentError("not a PNG");
 *     const data = await Deno.readFile(task.payload.path, { signal: ctx.signal });
 *     await ctx.progress(1, "read");
 *     return { bytes: data.byteLength };
 *   }),
 * };
 * ```
 *
 * It also exports {@link verifySignature}, for a service that receives un's
 * signed `http` deliveries (`X-Un-Signature`) and must refuse forged or
 * replayed ones.
 *
 * @module
 */

export { defineHandler } from "./lib/handlers/types.ts";
export type {
  ChildOutcome,
  ChildRequest,
  Handler,
  HandlerContext,
  HandlerMap,
  TypedTask,
  WaitForChildrenOptions,
} from "./lib/handlers/types.ts";
export { PermanentError } from "./lib/errors.ts";
export type { CloudEvent, Json } from "./lib/events/cloud-event.ts";
export type { Task, TaskState } from "./lib/tasks/task.ts";
export type { Logger } from "./lib/log.ts";
export { SIGNATURE_HEADER, signRequest, verifySignature } from "./lib/safety/signature.ts";
export type { SignatureCheck, SignedRequest } from "./lib/safety/signature.ts";
