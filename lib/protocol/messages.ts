/**
 * The messages actors exchange through the supervisor. Every message has a
 * `type`; the supervisor routes by it (actors/supervisor.ts), observes it
 * (inspector, metrics) and delivers it. A message that wants an answer is
 * sent with {@link ask} (lib/protocol/ask.ts): it carries only a request id,
 * `replyTo`, and {@link Replies} says what the answer to each type is. The
 * receiver answers once (`answer`, `refuse` or `settle`); without a
 * `replyTo`, nobody waits.
 */

import type { CloudEvent, EventInit, EventPriority, Json } from "../events/cloud-event.ts";
import type { ResourceUse } from "../tasks/resources.ts";
import type { Throttle } from "../tasks/load-guard.ts";
import type { EnqueueResult } from "../store/types.ts";
import type { Task } from "../tasks/task.ts";

/**
 * What the answer to each message type is: the one table `ask` infers its
 * result from, and `answer` checks a receiver's value against.
 */
export interface Replies {
  /** The event, once it is in the log (durable). */
  "event.publish": CloudEvent;
  "task.enqueue": EnqueueResult;
  "task.enqueueMany": EnqueueResult[];
  "task.reprioritize": Task;
  "task.retry": Task;
  "task.cancel": Task;
  "workers.scale": PoolInfo;
  "workers.info": PoolInfo;
  "workers.drain": DrainReport;
  "source.scan": ScanReport;
  /** How many source leases were freed. */
  "leader.release": number;
}

/** Message types that can be asked (they have an answer in {@link Replies}). */
export type AskType = keyof Replies;

/** Never set: only carries the reply type of a {@link ReplyTo} for the type checker. */
declare const replyType: unique symbol;

/**
 * The request id of a pending ask, typed with the message type it answers
 * (so `answer(event.replyTo, value)` checks `value` against {@link Replies}).
 * At run time a plain number.
 */
export type ReplyTo<T extends AskType> = number & { readonly [replyType]?: T };

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
  /** Set by the runtime, never by a client: the task whose handler asks (`ctx.enqueue`). */
  parentId?: string;
  /** Set by the runtime, never by a client: the batch the task joins. */
  batchId?: string;
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
  /** Why the load guard stops claims now (`workers.maxLoad`, `workers.minFreeMemoryMb`); null when it does not. */
  throttled?: Throttle | null;
}

/** A scan someone asked for. */
export interface ScanRequest {
  sourceId: string;
  /** Who asked: "api", "cli", "schedule", "start"... */
  requestedBy: string;
  /** The priority of the events this scan finds (a manual scan's: `high` unless asked otherwise); absent: the source's. */
  priority?: EventPriority;
}

/** What a drain reports: tasks that finished in the grace period, and those handed back. */
export interface DrainReport {
  finished: number;
  handedBack: number;
}

/** What a scan reports. */
export interface ScanReport {
  changes: number;
}

/** Everything the supervisor routes. */
export type RuntimeMessage =
  // to the bus (handled by the supervisor itself, through the event outlet). The
  // actors' own announcements (a task's lifecycle, the scheduler's) go to the
  // outlet directly, as no actor needs them (lib/events/event-outlet.ts); these carry
  // the rest: publishes, scanners' changes, store faults.
  | { type: "event.publish"; event: CloudEvent; replyTo?: ReplyTo<"event.publish"> }
  | { type: "event.emit"; init: EventInit }
  /** Several events made in one burst, in order. */
  | { type: "event.emitMany"; inits: EventInit[] }
  /** An event that came from another process (through the Redis bridge): to the local bus only. */
  | { type: "event.deliver"; event: CloudEvent }
  // to the prioritizer
  | { type: "task.enqueue"; request: TaskRequest; replyTo?: ReplyTo<"task.enqueue"> }
  | {
    type: "task.enqueueMany";
    requests: TaskRequest[];
    /** Made by hooks: a task its full queue refuses follows the queue's overflow policy. */
    hooked?: boolean;
    /** The requests start this batch (their `batchId`): a batch id in use is a ConflictError. */
    newBatch?: boolean;
    replyTo?: ReplyTo<"task.enqueueMany">;
  }
  | {
    type: "task.reprioritize";
    id: string;
    priority: number;
    replyTo?: ReplyTo<"task.reprioritize">;
  }
  | { type: "task.retry"; id: string; replyTo?: ReplyTo<"task.retry"> }
  // to the pool
  | { type: "task.ready"; count?: number }
  /** Cancel a task (any state that can be cancelled); a local worker running it is aborted. */
  | { type: "task.cancel"; id: string; replyTo?: ReplyTo<"task.cancel"> }
  /** A task was cancelled (here or, through the bridge, elsewhere): abort it if a local worker runs it. */
  | { type: "task.abort"; id: string }
  | { type: "workers.scale"; concurrency: number; replyTo?: ReplyTo<"workers.scale"> }
  | { type: "workers.info"; replyTo?: ReplyTo<"workers.info"> }
  | { type: "workers.drain"; graceMs: number; replyTo?: ReplyTo<"workers.drain"> }
  | { type: "workers.pause" }
  | { type: "workers.resume" }
  // to the scheduler
  | { type: "scheduler.wake" }
  // to a scanner (routed by sourceId)
  | { type: "source.scan"; request: ScanRequest; replyTo?: ReplyTo<"source.scan"> }
  // to one actor by id (tests' fault hook; only routed when UN_FAULTS allows it)
  | { type: "debug.crash"; actor: string };

/**
 * Messages sent straight to one actor rather than through the supervisor:
 * the composition root tells the source leader to let go at shutdown.
 */
export type DirectMessage = { type: "leader.release"; replyTo?: ReplyTo<"leader.release"> };

/** Every message that can be asked or sent. */
export type AskMessage = RuntimeMessage | DirectMessage;

/** Types of {@link RuntimeMessage}. */
export type RuntimeMessageType = RuntimeMessage["type"];
