/**
 * What the HTTP routes (and in-process embedders) get of a running runtime.
 * Routes never reach into an actor's state: they send a message, ask one (a
 * message with a reply), read the store, or listen to the bus.
 */

import type { MachineChart } from "./inspect/actor-chart.ts";
import type { Config } from "./config/load.ts";
import type { CloudEvent, Json } from "./events/cloud-event.ts";
import type { Logger } from "./log.ts";
import type { TaskCatalog } from "./safety/runnable.ts";
import type { RuntimeMessage } from "./protocol/messages.ts";
import type { Store } from "./store/types.ts";
import type { Throttle } from "./tasks/load-guard.ts";

/** One message the supervisor routed, as the inspector shows it. */
export interface InspectRecord {
  /** Sequence number within this process. */
  seq: number;
  at: number;
  /** Sending actor id, or "external" (routes, timers). */
  from: string;
  /** Receiving actor id ("supervisor" for messages it handles itself). */
  to: string;
  type: string;
  /** A short summary of the message (task id, event type, ...). */
  summary?: string;
  /**
   * Set on a worker's idle loop (consecutive `loop.claiming`/`loop.idle`), which
   * is one record counting its messages: it is sent again, same `seq`, as it grows.
   */
  count?: number;
  /** When the last message of an idle loop came. */
  lastAt?: number;
}

/** An actor as the inspector and `/health` show it. */
export interface ActorInfo {
  id: string;
  kind: string;
  /** XState snapshot status / state value, as text. */
  state: string;
  restarts: number;
  lastError: string | null;
  /** The inspector's tree: the parent's id (null for the supervisor). */
  parent?: string | null;
  /** The inspector's tree: the machine's id, its states and the active ones (paths such as `running`). */
  machine?: string;
  states?: string[];
  active?: string[];
}

/** One actor with its context and chart, for `GET /un/inspect/actors/:id`. */
export interface ActorDetail {
  actor: ActorInfo;
  /** The actor's context as JSON: secrets, tokens and URL query values redacted, runtime plumbing left out. */
  context: Json;
  chart: MachineChart | null;
}

/** `GET /health` body. */
export interface HealthReport {
  status: "ok" | "degraded";
  processId: string;
  role: string;
  uptimeMs: number;
  store: { kind: string; ok: boolean; error?: string };
  actors: ActorInfo[];
  /** Plain reasons when degraded. */
  problems: string[];
  /** Why the load guard stops this process's workers claiming now: visible, yet not degraded. */
  throttled?: Throttle | null;
}

/** The runtime as the control plane sees it. */
export interface ControlPlane {
  readonly config: Config;
  readonly store: Store;
  readonly log: Logger;
  readonly processId: string;
  readonly startedAt: number;
  /** The task types this process and the live workers can run (creates of others are refused). */
  readonly catalog: TaskCatalog;
  /** Sends a message to the supervisor, which routes it. */
  send(message: RuntimeMessage): void;
  /** Listens to live bus events matching a pattern; returns the unsubscribe function. */
  subscribe(pattern: string, fn: (event: CloudEvent) => void): () => void;
  /** Resolves once the events this process made so far are written to the log (group commit). */
  eventsLogged(): Promise<void>;
  /** Resolves once the subscriptions made so far also hear other processes' events (Redis bridge). */
  subscribed(): Promise<void>;
  /** Resolves once this process routes with the hooks stored so far (after a `hook.*` event it made). */
  hooksApplied(): Promise<void>;
  /** Recent routed messages and a live feed of new ones (development inspector). */
  inspect: {
    recent(limit: number): InspectRecord[];
    /** Every actor, parents first (the supervisor, its children, their machine children). */
    actors(): ActorInfo[];
    /** One actor with its redacted context and its machine's chart; null when unknown. */
    actor(id: string): ActorDetail | null;
    subscribe(fn: (record: InspectRecord) => void): () => void;
  };
  health(): Promise<HealthReport>;
  /** Prometheus text exposition of the runtime's counters. */
  metrics(): Promise<string>;
  /**
   * Resolves once the runtime has stopped. Long-lived responses (SSE streams)
   * end then, so the HTTP server's graceful shutdown does not wait on them.
   */
  readonly done?: Promise<string>;
  /** Graceful stop: stop claiming, let running tasks finish within the grace period, hand back the rest. */
  stop(reason: string): Promise<void>;
}

/**
 * The control plane with only the parts of the store a route uses (each
 * route module names its own, e.g. `ControlWith<TaskStore>`).
 */
export type ControlWith<S> = Omit<ControlPlane, "store"> & { readonly store: S };
