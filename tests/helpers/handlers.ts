/**
 * Calling handlers the way a worker does: a real task, a real context, and
 * small assertions on what they return (shared by the handler tests).
 *
 * ```ts
 * const handlers = handlersFor({ exec: { commands: { hi: ["echo", "hi"] } } });
 * const result = await run(handlers, "exec", { command: "hi" });
 * ```
 */

import assert from "node:assert/strict";
import { type ConfigInput, parseConfig } from "../../lib/config/load.ts";
import type { Json } from "../../lib/events/cloud-event.ts";
import { builtinHandlers } from "../../lib/handlers/builtin.ts";
import type { HandlerContext, HandlerMap } from "../../lib/handlers/types.ts";
import { silentLogger } from "../../lib/log.ts";
import type { Task } from "../../lib/tasks/task.ts";
import { newTask } from "../store/conformance/helpers.ts";

/** Runs `fn`, expects it to reject, returns the error. */
export async function rejects(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof Error, `expected an Error, got ${String(err)}`);
    return err;
  }
  throw new Error("expected a rejection, got a result");
}

/** A running task of `type` on `payload`, as a worker holds it after its claim. */
export function makeTask(type: string, payload: Json): Task {
  const now = Date.now();
  return {
    ...newTask({ type, payload, sortKey: now, createdAt: now }),
    state: "running",
    attempts: 1,
    progress: 0,
    progressMessage: null,
    result: null,
    error: null,
    enqueuedAt: now,
    startedAt: now,
    finishedAt: null,
    workerId: "w1",
    fence: 1,
    leaseUntil: null,
  };
}

/** A context as a worker builds it, recording what the handler reports. */
export function makeContext(attempt = 1) {
  const controller = new AbortController();
  const progress: { fraction: number; message?: string }[] = [];
  const emitted: { type: string; data?: Json }[] = [];
  const ctx: HandlerContext = {
    signal: controller.signal,
    progress(fraction, message) {
      progress.push({ fraction, message });
      return Promise.resolve();
    },
    emit(type, data) {
      emitted.push({ type, data });
    },
    log: silentLogger,
    attempt,
    workerId: "w1",
    enqueue: () => Promise.reject(new Error("no fan-out in this test context")),
    waitForChildren: () => Promise.resolve([]),
  };
  return { ctx, controller, progress, emitted };
}

/** Runs a handler by task type on a payload; returns its result as JSON-ish data. */
export async function run(
  handlers: HandlerMap,
  type: string,
  payload: Json,
  ctx: HandlerContext = makeContext().ctx,
): Promise<Record<string, Json>> {
  return await handlers[type](makeTask(type, payload), ctx) as Record<string, Json>;
}

/** The built-in handlers of a config made from `input`. */
export function handlersFor(input: ConfigInput = {}, cwd?: string): HandlerMap {
  return builtinHandlers(parseConfig(input), { cwd });
}
