/**
 * Which tasks run isolated, and where their Web Worker loads its handlers
 * from. A task runs isolated when its type is in `workers.isolate`, its queue
 * (or the `"*"` queue) says `isolate: true`, or it was made by a hook that
 * says `isolate: true`. All three are read from the configuration of the
 * process that runs the task, at run time: no store keeps a flag per task. A
 * hook's task is recognised by what the hook put on it: its type and queue,
 * and the event (`payload.event`, type and source) the hook matched.
 */

import type { Config } from "../config/load.ts";
import { ANY_QUEUE } from "../config/queues.ts";
import type { Json } from "../events/cloud-event.ts";
import { type CompiledHook, compileHooks } from "../hooks/rules.ts";
import type { Logger } from "../log.ts";
import type { Task } from "../tasks/task.ts";
import type { HandlerMap } from "./types.ts";

/** Decides, per task, whether it runs isolated; compiled once per configuration. */
type IsolationTest = (task: Task) => boolean;

const NEVER: IsolationTest = () => false;
const TESTS = new WeakMap<Config, IsolationTest>();

/**
 * True when `task` runs in a Web Worker of its own under `config`. Costs one
 * map lookup when nothing is isolated.
 *
 * @example
 * ```ts
 * isIsolated({ ...config, workers: { ...config.workers, isolate: ["embed"] } }, task);
 * ```
 */
export function isIsolated(config: Config, task: Task): boolean {
  let test = TESTS.get(config);
  if (test === undefined) TESTS.set(config, test = compileIsolation(config));
  return test(task);
}

function compileIsolation(config: Config): IsolationTest {
  const types = new Set(config.workers.isolate ?? []);
  const queues = config.queues ?? {};
  const byQueue = new Set(Object.keys(queues).filter((q) => queues[q].isolate === true));
  const noQueue = new Set(Object.keys(queues).filter((q) => queues[q].isolate === false));
  const anyQueue = byQueue.has(ANY_QUEUE);
  const hooks = compileHooks(config).filter((hook) => hook.spec.isolate === true);
  if (types.size === 0 && byQueue.size === 0 && hooks.length === 0) return NEVER;
  return (task) =>
    types.has(task.type) || byQueue.has(task.queue) ||
    (anyQueue && !noQueue.has(task.queue)) || hooks.some((hook) => madeBy(hook, task));
}

/** True when `task` is one `hook` would make: its type, its queue, an event it matches. */
function madeBy(hook: CompiledHook, task: Task): boolean {
  if (hook.spec.task !== task.type || (hook.spec.queue ?? "default") !== task.queue) return false;
  const event = eventOf(task.payload);
  if (event === null || !hook.matches(event.type)) return false;
  return hook.source === null || hook.source === event.source;
}

function eventOf(payload: Json): { type: string; source: unknown } | null {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return null;
  const event = payload.event;
  if (event === null || typeof event !== "object" || Array.isArray(event)) return null;
  return typeof event.type === "string" ? { type: event.type, source: event.source } : null;
}

const UNLOADABLE = new WeakSet<HandlerMap>();

/**
 * Where `task`'s handler is to be loaded from when it runs isolated, or
 * undefined when it runs in process. Handlers built by hand (not by
 * `loadHandlers`) cannot be loaded in a Web Worker: they run in process, said
 * once per map.
 */
export function isolationOf(
  config: Config,
  handlers: HandlerMap,
  task: Task,
  log: Logger,
): HandlersOrigin | undefined {
  if (!isIsolated(config, task)) return undefined;
  const origin = ORIGINS.get(handlers);
  if (origin === undefined && !UNLOADABLE.has(handlers)) {
    UNLOADABLE.add(handlers);
    log.warn("isolated task types run in process: these handlers were not loaded from a module", {
      type: task.type,
    });
  }
  return origin;
}

/**
 * Where a handler map was loaded from: what a Web Worker needs to load the
 * same handlers (the built-ins of `config`, and `config.handlers` resolved
 * against `cwd`).
 */
export interface HandlersOrigin {
  config: Config;
  cwd: string;
}

const ORIGINS = new WeakMap<HandlerMap, HandlersOrigin>();

/** Records where `loadHandlers` loaded a map from (and returns the map). */
export function withHandlersOrigin(handlers: HandlerMap, origin: HandlersOrigin): HandlerMap {
  ORIGINS.set(handlers, origin);
  return handlers;
}

/** Where a handler map was loaded from; undefined for a map built by hand (it cannot be isolated). */
export function handlersOrigin(handlers: HandlerMap): HandlersOrigin | undefined {
  return ORIGINS.get(handlers);
}

/** A plain form of an error or abort reason that survives `postMessage`. */
export type WireError = string | { name: string; message: string; stack?: string };

/** What the runtime tells an isolated handler's Web Worker. */
export type ToIsolate =
  | { kind: "load"; origin: HandlersOrigin }
  | { kind: "run"; task: Task; workerId: string }
  | { kind: "abort"; reason: WireError }
  | { kind: "progressed"; id: number; error?: WireError };

/** What an isolated handler's Web Worker tells the runtime. */
export type FromIsolate =
  | { kind: "loaded" }
  | { kind: "load-failed"; error: WireError }
  | { kind: "progress"; id: number; fraction: number; message?: string }
  | { kind: "emit"; type: string; data: Json }
  | { kind: "log"; level: "debug" | "info" | "warn" | "error"; message: string; fields?: unknown }
  | { kind: "done"; result: Json }
  | { kind: "failed"; error: WireError };

/** An error or abort reason in a form `postMessage` carries (strings stay strings). */
export function toWire(value: unknown): WireError {
  if (typeof value === "string") return value;
  const e = value instanceof Error ? value : new Error(String(value));
  return { name: e.name, message: e.message, stack: e.stack };
}

/** The error or abort reason back from its wire form, with its name (PermanentError stays permanent). */
export function fromWire(wire: WireError): unknown {
  if (typeof wire === "string") return wire;
  const e = new Error(wire.message);
  e.name = wire.name;
  if (wire.stack !== undefined) e.stack = wire.stack;
  return e;
}
