/**
 * The Web Worker an isolated handler runs in (lib/handlers/isolate-pool.ts
 * starts it). It loads the same handlers as the runtime (the built-ins and
 * the `handlers` module), then runs one task at a time: the handler's
 * `ctx.progress`, `ctx.emit` and `ctx.log` and its result or error travel to
 * the runtime as messages, and an `abort` message aborts its `ctx.signal`.
 * A handler that ignores the signal is not stopped here: the runtime
 * terminates the whole Web Worker.
 */

import type { Json } from "../events/cloud-event.ts";
import type { LogFields, Logger } from "../log.ts";
import { type FromIsolate, fromWire, type ToIsolate, toWire } from "./isolate.ts";
import { loadHandlers } from "./load.ts";
import type { HandlerContext, HandlerMap } from "./types.ts";

/** The worker's global scope, typed here so the module type-checks with the runtime's own. */
const scope = globalThis as unknown as {
  postMessage(message: FromIsolate): void;
  onmessage: ((event: MessageEvent<ToIsolate>) => void) | null;
};

let handlers: HandlerMap | null = null;
let controller: AbortController | null = null;
let nextProgress = 0;
const progressWaits = new Map<number, { resolve(): void; reject(err: unknown): void }>();

function send(message: FromIsolate): void {
  scope.postMessage(message);
}

/** Log fields cross as they are when they can, else as JSON (a function or a socket cannot). */
function cloneable(fields: LogFields | undefined): unknown {
  if (fields === undefined) return undefined;
  try {
    return structuredClone(fields);
  } catch {
    return JSON.parse(JSON.stringify(fields, (_, v) => typeof v === "bigint" ? String(v) : v));
  }
}

function logger(): Logger {
  const at =
    (level: "debug" | "info" | "warn" | "error") => (message: string, fields?: LogFields) =>
      send({ kind: "log", level, message, fields: cloneable(fields) });
  const log: Logger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: () => log,
  };
  return log;
}

/** Fan-out needs the runtime's prioritizer and store, which an isolate does not reach. */
function notIsolated(method: string): Error {
  const error = new Error(
    `ctx.${method} is not available to isolated handlers; run this task type in-process ` +
      "(leave it out of workers.isolate)",
  );
  error.name = "PermanentError";
  return error;
}

async function run(message: Extract<ToIsolate, { kind: "run" }>): Promise<void> {
  const { task } = message;
  const handler = handlers && Object.hasOwn(handlers, task.type) ? handlers[task.type] : undefined;
  if (!handler) {
    const error = { name: "PermanentError", message: `no handler for task type "${task.type}"` };
    return send({ kind: "failed", error });
  }
  controller = new AbortController();
  const ctx: HandlerContext = {
    signal: controller.signal,
    attempt: task.attempts,
    workerId: message.workerId,
    log: logger(),
    progress: (fraction, text) =>
      new Promise<void>((resolve, reject) => {
        const id = nextProgress++;
        progressWaits.set(id, { resolve, reject });
        send({ kind: "progress", id, fraction, message: text });
      }),
    emit: (type, data) => send({ kind: "emit", type, data: data ?? null }),
    enqueue: () => Promise.reject(notIsolated("enqueue")),
    waitForChildren: () => Promise.reject(notIsolated("waitForChildren")),
  };
  try {
    const result = await handler(task, ctx);
    send({ kind: "done", result: (result === undefined ? null : result) as Json });
  } catch (err) {
    send({ kind: "failed", error: toWire(err) });
  } finally {
    controller = null;
  }
}

scope.onmessage = (event) => {
  const message = event.data;
  switch (message.kind) {
    case "load":
      loadHandlers(message.origin.config, { cwd: message.origin.cwd }).then((loaded) => {
        handlers = loaded;
        send({ kind: "loaded" });
      }, (err) => send({ kind: "load-failed", error: toWire(err) }));
      break;
    case "run":
      void run(message);
      break;
    case "abort":
      controller?.abort(fromWire(message.reason));
      break;
    case "progressed": {
      const wait = progressWaits.get(message.id);
      progressWaits.delete(message.id);
      if (message.error === undefined) wait?.resolve();
      else wait?.reject(fromWire(message.error));
      break;
    }
  }
};
