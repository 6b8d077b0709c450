/**
 * The messages actors exchange through the supervisor. Every message has a
 * `type`; the supervisor routes by it (see `ROUTES`), observes it (inspector,
 * metrics) and delivers it. A message that wants an answer carries a `reply`
 * (the ask pattern); the receiver must settle it exactly once.
 */

import { UnavailableError } from "../errors.ts";
import type { CloudEvent, EventInit, Json } from "../events/cloud-event.ts";
import type { ResourceUse } from "../tasks/resources.ts";
import type { EnqueueResult } from "../store/types.ts";
import type { Task } from "../tasks/task.ts";

/** The answer channel of an ask. */
export interface Reply<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** What a client (route, hook, schedule, handler) asks to enqueue, before defaults and scoring. */
export interface TaskRequest {
  type: string;
  payload?: Json;
  priority?: number;
  queue?: string;
  delayMs?: number;
  /** Epoch ms. */
  runAt?: number;
  /** Epoch ms. */
  deadline?: number;
  /** Epoch ms: the task expires if not started by then. */
  expiresAt?: number;
  key?: string;
  dependsOn?: string[];
  maxAttempts?: number;
  timeoutMs?: number;
  resources?: Record<string, number>;
  correlationId?: string;
}

/** One worker as `GET /un/workers` shows it. */
export interface WorkerInfo {
  id: string;
  state: "idle" | "claiming" | "running" | "stopping";
  taskId: string | null;
  taskType: string | null;
  startedAt: number | null;
}

/** The pool as `GET /un/workers` shows it. */
export interface PoolInfo {
  concurrency: number;
  workers: WorkerInfo[];
  /** Not claiming (shutting down, or the store is unreachable). */
  paused: boolean;
  /** Each resource of `workers.resources`: its capacity and how much running tasks hold. */
  resources: Record<string, ResourceUse>;
}

/** A scan someone asked for. */
export interface ScanRequest {
  sourceId: string;
  /** Who asked: "api", "cli", "schedule", "start"... */
  requestedBy: string;
}

/** Everything the supervisor routes. */
export type RuntimeMessage =
  // to the bus (handled by the supervisor itself, through the event outlet). The
  // actors' own announcements (a task's lifecycle, the scheduler's) go to the
  // outlet directly, as no actor needs them (lib/events/event-outlet.ts); these carry
  // the rest: publishes, scanners' changes, store faults.
  | { type: "event.publish"; event: CloudEvent; reply?: Reply<CloudEvent> }
  | { type: "event.emit"; init: EventInit }
  /** Several events made in one burst, in order. */
  | { type: "event.emitMany"; inits: EventInit[] }
  /** An event that came from another process (through the Redis bridge): to the local bus only. */
  | { type: "event.deliver"; event: CloudEvent }
  // to the prioritizer
  | { type: "task.enqueue"; request: TaskRequest; reply?: Reply<EnqueueResult> }
  | { type: "task.enqueueMany"; requests: TaskRequest[]; reply?: Reply<EnqueueResult[]> }
  | { type: "task.reprioritize"; id: string; priority: number; reply?: Reply<Task> }
  | { type: "task.retry"; id: string; reply?: Reply<Task> }
  // to the pool
  | { type: "task.ready"; count?: number }
  /** Cancel a task (any state that can be cancelled); a local worker running it is aborted. */
  | { type: "task.cancel"; id: string; reply?: Reply<Task> }
  /** A task was cancelled (here or, through the bridge, elsewhere): abort it if a local worker runs it. */
  | { type: "task.abort"; id: string }
  | { type: "workers.scale"; concurrency: number; reply?: Reply<PoolInfo> }
  | { type: "workers.info"; reply: Reply<PoolInfo> }
  | {
    type: "workers.drain";
    graceMs: number;
    reply: Reply<{ finished: number; handedBack: number }>;
  }
  | { type: "workers.pause" }
  | { type: "workers.resume" }
  // to the scheduler
  | { type: "scheduler.wake" }
  // to a scanner (routed by sourceId)
  | { type: "source.scan"; request: ScanRequest; reply?: Reply<{ changes: number }> }
  // to one actor by id (tests' fault hook; only routed when UN_FAULTS allows it)
  | { type: "debug.crash"; actor: string };

/** Types of {@link RuntimeMessage}. */
export type RuntimeMessageType = RuntimeMessage["type"];

/**
 * Sends a message that carries a reply and waits for the answer.
 *
 * @example
 * ```ts
 * const info = await ask<PoolInfo>(send, (reply) => ({ type: "workers.info", reply }));
 * ```
 */
export function ask<T>(
  send: (message: RuntimeMessage) => void,
  build: (reply: Reply<T>) => RuntimeMessage,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      // An actor that does not answer (restarting, overloaded) makes the runtime
      // unavailable for this request, not broken: routes answer 503.
      () =>
        reject(
          new UnavailableError(`no answer to ${message.type} within ${timeoutMs}ms`, {
            message: message.type,
            timeoutMs,
          }),
        ),
      timeoutMs,
    );
    const message = build({
      resolve: (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      reject: (e) => {
        clearTimeout(timer);
        reject(e);
      },
    });
    send(message);
  });
}
