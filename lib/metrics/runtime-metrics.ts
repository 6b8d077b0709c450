/**
 * The metrics of one runtime, on a registry of its own (tests run several
 * runtimes in one process). Two halves:
 *
 * - per event, on the bus's hot path ({@link RuntimeMetrics.event}): a count
 *   by type and, for the few types that say something about tasks and
 *   actors, a counter or a histogram: a map lookup and an increment (scan
 *   durations come from the scanners, lib/metrics/scan-times.ts);
 * - per scrape ({@link RuntimeMetrics.render}): what the store, the pool and
 *   the actors say now (queue depths, the oldest queued task, busy workers,
 *   source statuses, health), read then and only then.
 *
 * The registry itself, and prom-client with it, is made by the first scrape
 * (lib/metrics/prom.ts says why): until then everything is plain numbers.
 */

import type { Registry } from "prom-client";
import type { ActorInfo, HealthReport } from "../control.ts";
import type { CloudEvent } from "../events/cloud-event.ts";
import type { CompiledHook } from "../hooks/mod.ts";
import type { PoolInfo } from "../protocol/messages.ts";
import type { QueueCounts, Store } from "../store/types.ts";
import { LIVE_STATES } from "../tasks/task.ts";
import type { Counters } from "./counters.ts";
import { BoundedLabel, EventTypeCounts } from "./labels.ts";
import { registerProcessMetrics } from "./process.ts";
import { loadProm, type Prom } from "./prom.ts";
import { onScan } from "./scan-times.ts";
import { SourceMetrics } from "./sources.ts";
import { TaskMetrics } from "./tasks.ts";

/** What the runtime gives its metrics to read at scrape time. */
export interface MetricsHost {
  store: Store;
  startedAt: number;
  /** Task types with their own series (this process's handlers); others are `other`. */
  taskTypes: readonly string[];
  /** The hooks now: the event types they name literally get their own series. */
  hooks(): readonly CompiledHook[];
  /** Counters kept outside (`un_store_resets_total`, from the store's fault reports). */
  counters: Counters;
  actors(): ActorInfo[];
  /** The worker pool's state, or null in a process without one. */
  pool(): Promise<PoolInfo | null>;
  health(): Promise<HealthReport>;
  /** The event log: events waiting for the store, events dropped. */
  eventLog(): { buffered: number; dropped: number };
}

/** Content type of the text exposition (Prometheus 0.0.4). */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * The metrics of one runtime.
 */
export class RuntimeMetrics {
  readonly #events: EventTypeCounts;
  readonly #tasks: TaskMetrics;
  readonly #sources: SourceMetrics;
  /** Restarts by actor label. */
  readonly #restarts = new Map<string, number>();
  readonly #actors = new BoundedLabel(500);
  /** The registry and its scrape-time gauges, made by the first scrape. */
  #registry: Promise<{ registry: Registry; gauges: ScrapeGauges }> | null = null;
  /** A scrape in progress: another one at the same time gets the same text. */
  #rendering: Promise<string> | null = null;

  constructor(private readonly host: MetricsHost) {
    const types = new Set(host.taskTypes);
    this.#tasks = new TaskMetrics((type) => types.has(type));
    this.#sources = new SourceMetrics(host.startedAt);
    const sources = this.#sources;
    // Every scan this process runs, periodic or asked for, reported by its scanner.
    onScan(host.store, (sourceId, ms) => sources.scanned(sourceId, ms));
    this.#events = new EventTypeCounts(host.hooks);
  }

  /** Builds the registry: every metric in the order the exposition lists them. */
  #build(prom: Prom): { registry: Registry; gauges: ScrapeGauges } {
    const { Counter, Gauge, Registry } = prom;
    const host = this.host;
    const registry = new Registry();
    const registers = [registry];
    registerProcessMetrics(registry, prom);
    this.#tasks.register(registry, prom);
    this.#sources.register(registry, prom);
    const events = this.#events;
    new Counter({
      name: "un_events_total",
      help: "Events this process made, by type (types no hook names and un does not make: other)",
      labelNames: ["type"],
      registers,
      // Counted per event in plain numbers; handed over whole at scrape time.
      collect() {
        this.reset();
        for (const [type, n] of events.counts()) this.inc({ type }, n);
      },
    });
    const restarts = this.#restarts;
    new Counter({
      name: "un_actor_restarts_total",
      help: "Restarts of an actor by the supervisor after it crashed",
      labelNames: ["actor"],
      registers,
      collect() {
        this.reset();
        for (const [actor, n] of restarts) this.inc({ actor }, n);
      },
    });
    new Counter({
      name: "un_store_resets_total",
      help: "Losses of the store's data seen (Redis epoch changed)",
      registers,
      collect() {
        this.reset();
        this.inc(host.counters.total("un_store_resets_total"));
      },
    });
    new Counter({
      name: "un_events_dropped_total",
      help: "Events dropped because the store was unreachable and the buffer was full",
      registers,
      collect() {
        this.reset();
        this.inc(host.eventLog().dropped);
      },
    });
    new Gauge({
      name: "un_events_buffered",
      help: "Events waiting in this process to be written to the event log",
      registers,
      collect() {
        this.set(host.eventLog().buffered);
      },
    });
    new Gauge({ name: "un_up", help: "1 while the runtime runs", registers }).set(1);
    return { registry, gauges: scrapeGauges(registry, Gauge) };
  }

  /** Takes note of one event this process made (the bus's hot path: keep it cheap). */
  event(event: CloudEvent): void {
    const type = event.type;
    this.#events.count(type);
    if (type.startsWith("task.")) this.#tasks.observe(event);
    else if (type === "actor.restarted") {
      const actor = this.#actors.of(
        (event.data as { actor?: unknown } | null)?.actor ?? event.subject,
      );
      this.#restarts.set(actor, (this.#restarts.get(actor) ?? 0) + 1);
    }
  }

  /** Counts running tasks found stalled without an event (the embedded store at start-up). */
  leaseExpired(count: number): void {
    this.#tasks.leaseExpired(count);
  }

  /** The text exposition, with what the store, pool and actors say now. */
  render(): Promise<string> {
    this.#rendering ??= this.#render().finally(() => (this.#rendering = null));
    return this.#rendering;
  }

  async #render(): Promise<string> {
    const { host } = this;
    // A failed import is tried again by the next scrape.
    this.#registry ??= loadProm().then((prom) => this.#build(prom)).catch((err) => {
      this.#registry = null;
      throw err;
    });
    const { registry, gauges: g } = await this.#registry;
    const [queues, paused, pool, health] = await Promise.all([
      host.store.queueCounts().catch(() => null),
      host.store.pausedQueues().catch(() => null),
      host.pool().catch(() => null),
      host.health().catch(() => null),
    ]);
    const oldest = queues ? await this.#oldest(queues) : {};
    // Source statuses are best effort: a store that does not answer shows in un_store_up.
    if (queues) await this.#sources.refresh(host.store).catch(() => {});
    const now = Date.now();
    g.storeUp.set(queues ? 1 : 0);
    g.healthy.set(health?.status === "ok" ? 1 : 0);
    for (const gauge of [g.tasks, g.depth, g.oldest, g.paused]) gauge.reset();
    for (const [queue, counts] of Object.entries(queues ?? {})) {
      for (const [state, n] of Object.entries(counts)) {
        g.tasks.set({ queue, state }, n);
        if (LIVE_STATES.includes(state as keyof QueueCounts)) g.depth.set({ queue, state }, n);
      }
      g.oldest.set({ queue }, oldest[queue] === undefined ? 0 : (now - oldest[queue]) / 1000);
      g.paused.set({ queue }, 0);
    }
    // A queue may be paused before it has a task: it shows as 1 all the same.
    for (const queue of paused ?? []) g.paused.set({ queue }, 1);
    g.workersTotal.set(pool?.workers.length ?? 0);
    g.workersBusy.set(pool?.workers.filter((w) => w.taskId !== null).length ?? 0);
    g.workersThrottled.set(pool?.throttled ? 1 : 0);
    g.actorsDown.set(
      host.actors().filter((a) => a.state === "restarting" || a.state === "error").length,
    );
    return await registry.metrics();
  }

  async #oldest(queues: Record<string, QueueCounts>): Promise<Record<string, number>> {
    const { store } = this.host;
    const names = Object.keys(queues).filter((q) => queues[q].queued > 0);
    if (!store.oldestQueuedAt || names.length === 0) return {};
    return await store.oldestQueuedAt(names).catch(() => ({}));
  }
}

/** The gauges set at scrape time. */
type ScrapeGauges = ReturnType<typeof scrapeGauges>;

function scrapeGauges(registry: Registry, Gauge: Prom["Gauge"]) {
  const registers = [registry];
  const gauge = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers });
  return {
    storeUp: gauge("un_store_up", "1 when the store answers"),
    healthy: gauge("un_healthy", "1 when GET /health says ok, 0 when degraded"),
    tasks: gauge("un_tasks", "Tasks in the store by queue and state (every state)", [
      "queue",
      "state",
    ]),
    depth: gauge(
      "un_queue_depth",
      "Live tasks by queue and state (waiting, scheduled, queued, running, retrying)",
      ["queue", "state"],
    ),
    oldest: gauge(
      "un_queue_oldest_age_seconds",
      "Age of the oldest queued task of a queue, from when it was enqueued (0 when none is queued)",
      ["queue"],
    ),
    workersTotal: gauge("un_workers", "Workers of this process's pool (its concurrency)"),
    workersBusy: gauge("un_workers_busy", "Workers of this process's pool running a task"),
    workersThrottled: gauge(
      "un_workers_throttled",
      "1 while the load guard stops this process's workers claiming (workers.maxLoad, workers.minFreeMemoryMb)",
    ),
    paused: gauge(
      "un_queue_paused",
      "1 while the queue is paused (POST /un/queues/:name/pause), 0 for the store's other queues",
      ["queue"],
    ),
    actorsDown: gauge("un_actors_down", "Actors restarting or in error (a reason for degraded)"),
  };
}
