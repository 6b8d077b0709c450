/**
 * What `/health` and `/metrics` say, from the facts the runtime gathers: the
 * store's answer, the actors' states, the event buffer, the task counts.
 */

import type { ActorInfo, HealthReport } from "./control.ts";
import { StoreFaultError } from "./errors.ts";
import { type Counters, renderMetrics, type Sample } from "./metrics.ts";
import type { QueueCounts, Store } from "./store/types.ts";

/** The facts a health report is made of. */
export interface HealthFacts {
  processId: string;
  role: string;
  startedAt: number;
  store: Store;
  actors: ActorInfo[];
  /** Events waiting in this process because the store does not take them. */
  bufferedEvents: number;
  stopping: boolean;
}

/** How long a store may take to answer a ping before it counts as unreachable. */
const PING_TIMEOUT_MS = 2_000;

/**
 * The health report: `degraded` with plain reasons when the store does not
 * answer, an actor is down, events are piling up, or the process is stopping.
 *
 * @example
 * ```ts
 * const report = await healthReport({ processId, role: "all", startedAt, store, actors, bufferedEvents: 0, stopping: false });
 * report.status; // "ok"
 * ```
 */
export async function healthReport(facts: HealthFacts): Promise<HealthReport> {
  const problems: string[] = [];
  let storeError: string | undefined;
  try {
    await withTimeout(facts.store.ping(), PING_TIMEOUT_MS, "store ping timed out");
  } catch (err) {
    storeError = err instanceof Error ? err.message : String(err);
    // A store that answers but is not sound (lost data, out of memory) says why itself.
    problems.push(
      ...(err instanceof StoreFaultError ? err.reasons : [`store unreachable: ${storeError}`]),
    );
  }
  for (const a of facts.actors) {
    if (a.state === "restarting" || a.state === "error") {
      problems.push(`actor ${a.id} is ${a.state}`);
    }
  }
  if (facts.bufferedEvents > 0) {
    problems.push(
      `${facts.bufferedEvents} events buffered in this process until the store takes them`,
    );
  }
  if (facts.stopping) problems.push("stopping");
  return {
    status: problems.length ? "degraded" : "ok",
    processId: facts.processId,
    role: facts.role,
    uptimeMs: Date.now() - facts.startedAt,
    store: {
      kind: facts.store.kind,
      ok: storeError === undefined,
      ...(storeError ? { error: storeError } : {}),
    },
    actors: facts.actors,
    problems,
  };
}

/** The facts `/metrics` renders. */
export interface MetricFacts {
  counters: Counters;
  actors: ActorInfo[];
  /** Task counts, or null when the store did not answer. */
  queues: Record<string, QueueCounts> | null;
  eventsBuffered: number;
  eventsDropped: number;
}

/**
 * Prometheus text for the runtime's counters and gauges.
 *
 * @example
 * ```ts
 * runtimeMetrics({ counters, actors, queues: await store.queueCounts(), eventsBuffered: 0, eventsDropped: 0 });
 * ```
 */
export function runtimeMetrics(facts: MetricFacts): string {
  const samples: Sample[] = [
    { name: "un_up", help: "1 while the runtime runs", type: "gauge", value: 1 },
    ...facts.counters.samples("un_events_total", "Events delivered on the bus, by type"),
    ...facts.counters.samples("un_store_resets_total", "Losses of the store's data seen"),
    {
      name: "un_events_buffered",
      help: "Events waiting in this process to be written to the event log",
      type: "gauge",
      value: facts.eventsBuffered,
    },
    {
      name: "un_events_dropped_total",
      help: "Events dropped because the store was unreachable and the buffer was full",
      type: "counter",
      value: facts.eventsDropped,
    },
    {
      name: "un_store_up",
      help: "1 when the store answers",
      type: "gauge",
      value: facts.queues ? 1 : 0,
    },
  ];
  for (const [queue, counts] of Object.entries(facts.queues ?? {})) {
    for (const [state, value] of Object.entries(counts)) {
      samples.push({
        name: "un_tasks",
        help: "Tasks in the store by queue and state",
        type: "gauge",
        labels: { queue, state },
        value,
      });
    }
  }
  for (const a of facts.actors) {
    samples.push({
      name: "un_actor_restarts",
      help: "Restarts of an actor within the supervisor's window",
      type: "gauge",
      labels: { actor: a.id },
      value: a.restarts,
    });
  }
  return renderMetrics(samples);
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
