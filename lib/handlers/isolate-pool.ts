/**
 * Runs isolated handlers in Deno Web Workers (lib/handlers/isolated-worker.ts),
 * one per worker slot, kept between tasks: `new Worker` holds the main thread
 * for 50-300 ms and loading the handlers takes as long again (measured on 2
 * busy cores), while a task on a warm one costs about 0.15 ms. A handler that
 * ignores `ctx.signal` after a timeout, cancel or shutdown gets
 * `workers.killAfterMs`; then its Web Worker is terminated, the attempt ends
 * with "terminated after timeout", and the slot's next isolated task starts a
 * fresh Web Worker. A Web Worker idle for {@link IDLE_MS} is terminated too.
 */

import type { Config } from "../config/load.ts";
import type { Json } from "../events/cloud-event.ts";
import type { Logger } from "../log.ts";
import type { Task } from "../tasks/task.ts";
import {
  type FromIsolate,
  fromWire,
  type HandlersOrigin,
  type ToIsolate,
  toWire,
} from "./isolate.ts";
import type { HandlerContext } from "./types.ts";

/** A slot's Web Worker that ran nothing for this long is terminated (rarely isolated types cost no thread). */
const IDLE_MS = 60_000;

const WORKER_URL = new URL("./isolated-worker.ts", import.meta.url).href;

/** The error of an attempt whose Web Worker was terminated. */
export class TerminatedError extends Error {
  override name = "TerminatedError";
}

/** One slot's Web Worker: loaded once, then one task at a time. */
class Isolate {
  readonly worker: Worker;
  readonly loaded: Promise<void>;
  /** Set while a task runs: where the Web Worker's messages go. */
  listener: ((message: FromIsolate) => void) | null = null;
  /** Set while a task runs: how the run ends when the Web Worker dies. */
  onCrash: ((error: Error) => void) | null = null;
  #idle: ReturnType<typeof setTimeout> | undefined;
  #dead = false;

  constructor(origin: HandlersOrigin, private readonly onGone: (isolate: Isolate) => void) {
    this.worker = new Worker(WORKER_URL, { type: "module" });
    let loadDone = (_: Error | null) => {};
    this.loaded = new Promise<void>((resolve, reject) => {
      loadDone = (error) => error ? reject(error) : resolve();
    });
    // A load failure nobody awaits yet must not be an unhandled rejection.
    this.loaded.catch(() => {});
    this.worker.onmessage = (event: MessageEvent<FromIsolate>) => {
      const message = event.data;
      if (message.kind === "loaded") return loadDone(null);
      if (message.kind === "load-failed") return loadDone(fromWire(message.error) as Error);
      this.listener?.(message);
    };
    // An error the handler left uncaught (a stray promise) ends the Web Worker,
    // never the runtime: preventDefault keeps it from reaching the main thread.
    this.worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      const error = new Error(`isolated handler crashed: ${event.message}`);
      loadDone(error);
      this.onCrash?.(error);
      this.terminate();
    };
    this.worker.postMessage({ kind: "load", origin } satisfies ToIsolate);
  }

  post(message: ToIsolate): void {
    if (!this.#dead) this.worker.postMessage(message);
  }

  get dead(): boolean {
    return this.#dead;
  }

  busy(): void {
    clearTimeout(this.#idle);
  }

  idle(): void {
    this.listener = null;
    this.onCrash = null;
    const timer = setTimeout(() => this.terminate(), IDLE_MS);
    Deno.unrefTimer(timer);
    this.#idle = timer;
  }

  terminate(): void {
    if (this.#dead) return;
    this.#dead = true;
    clearTimeout(this.#idle);
    this.worker.terminate();
    this.onGone(this);
  }
}

/** Web Workers by handlers origin, then by worker slot. */
const SLOTS = new WeakMap<HandlersOrigin, Map<string, Isolate>>();
/** Every live Web Worker, for {@link closeIsolates}. */
const LIVE = new Set<Isolate>();

function isolateFor(origin: HandlersOrigin, slot: string): Isolate {
  let slots = SLOTS.get(origin);
  if (slots === undefined) SLOTS.set(origin, slots = new Map());
  let isolate = slots.get(slot);
  if (isolate === undefined || isolate.dead || isolate.listener !== null) {
    const made: Isolate = new Isolate(origin, (gone) => {
      LIVE.delete(gone);
      if (slots.get(slot) === gone) slots.delete(slot);
    });
    LIVE.add(made);
    slots.set(slot, isolate = made);
  }
  return isolate;
}

/** What {@link runIsolated} needs. */
export interface IsolatedRun {
  task: Task;
  /** The attempt's context: its signal, and where progress, events and log lines go. */
  ctx: HandlerContext;
  origin: HandlersOrigin;
  /** `workers.killAfterMs`, and where the runtime's own lines about the Web Worker go. */
  deps: { config: Pick<Config, "workers">; log: Logger };
}

/**
 * Runs a task's handler in its slot's Web Worker and resolves with its
 * result. After `ctx.signal` aborts it rejects with the abort's reason once
 * the handler stops, or with a {@link TerminatedError} when the handler has
 * not stopped `killAfterMs` later (the Web Worker is terminated then).
 */
export function runIsolated(run: IsolatedRun): Promise<Json> {
  const { task, ctx } = run;
  const killAfterMs = run.deps.config.workers.killAfterMs;
  const isolate = isolateFor(run.origin, ctx.workerId);
  isolate.busy();
  return new Promise<Json>((resolve, reject) => {
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(killTimer);
      ctx.signal.removeEventListener("abort", onAbort);
      if (!isolate.dead) isolate.idle();
      fn();
    };
    const onAbort = () => {
      isolate.post({ kind: "abort", reason: toWire(ctx.signal.reason) });
      killTimer = setTimeout(() => {
        run.deps.log.warn("isolated handler ignored its signal: its Web Worker is terminated", {
          task: task.id,
          type: task.type,
          killAfterMs,
        });
        finish(() => reject(new TerminatedError("terminated after timeout")));
        // No replacement is started here: `new Worker` holds the main thread for
        // 50-300 ms (measured), which would delay recording this attempt's end.
        // The slot's next isolated task starts one.
        isolate.terminate();
      }, killAfterMs);
    };
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    isolate.onCrash = (error) => finish(() => reject(error));
    isolate.listener = (message) => {
      switch (message.kind) {
        case "progress":
          ctx.progress(message.fraction, message.message).then(
            () => isolate.post({ kind: "progressed", id: message.id }),
            (err) => isolate.post({ kind: "progressed", id: message.id, error: toWire(err) }),
          );
          break;
        case "emit":
          ctx.emit(message.type, message.data);
          break;
        case "log":
          ctx.log[message.level](message.message, message.fields as Record<string, unknown>);
          break;
        case "done":
          // A result that comes after an abort is no success, as with a handler run in process.
          finish(() => ctx.signal.aborted ? reject(ctx.signal.reason) : resolve(message.result));
          break;
        case "failed":
          finish(() => reject(ctx.signal.aborted ? ctx.signal.reason : fromWire(message.error)));
          break;
      }
    };
    isolate.loaded.then(
      () => isolate.post({ kind: "run", task, workerId: ctx.workerId }),
      (error) => {
        finish(() => reject(error));
        isolate.terminate();
      },
    );
    if (ctx.signal.aborted) onAbort();
  });
}

/** Terminates every Web Worker not running a task (at shutdown, and after tests). */
export function closeIsolates(): void {
  for (const isolate of [...LIVE]) if (isolate.listener === null) isolate.terminate();
}
