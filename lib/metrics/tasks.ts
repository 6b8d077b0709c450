/**
 * Task metrics from the `task.*` events this process makes: outcomes per
 * queue and type, the run time of each attempt (`durationMs` on the event that
 * ends it), the wait before it (`waitMs` on `task.started`), and leases that
 * ran out (`task.queued`/`task.dead` with `reason: "stalled"` from a running
 * task). Each event is made once in a cluster, by the process that changed
 * the task, so the cluster's figures are the sum over processes.
 */

import type { Registry } from "prom-client";
import type { CloudEvent } from "../events/cloud-event.ts";
import { FastHistogram, type HistogramSeries } from "./histogram.ts";
import { BoundedLabel } from "./labels.ts";
import type { MetricPart, Prom } from "./prom.ts";

/** Outcome label of each event that ends an attempt or a task. */
const OUTCOMES: Readonly<Record<string, string>> = {
  "task.succeeded": "succeeded",
  "task.failed": "failed",
  "task.dead": "dead",
  "task.cancelled": "cancelled",
  "task.expired": "expired",
  "task.retrying": "retried",
};

/** Seconds: from a millisecond noop to an hour-long job. */
const RUN_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** Seconds: from a worker waiting for work to a backlog of a day. */
const WAIT_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 86400];

/** How many distinct queues get their own series. */
const MAX_QUEUES = 100;

/** What is counted for one queue and type: found once per event, then plain increments. */
interface Series {
  queue: string;
  type: string;
  outcomes: Map<string, number>;
  run: HistogramSeries;
  wait: HistogramSeries;
}

/**
 * The task metrics of one runtime: counted per event in plain numbers and
 * arrays, handed to the registry at scrape time.
 */
export class TaskMetrics implements MetricPart {
  readonly #run = new FastHistogram(
    "un_task_run_seconds",
    "Run time of each attempt (its start to its outcome), by queue and type",
    RUN_BUCKETS,
  );
  readonly #wait = new FastHistogram(
    "un_task_wait_seconds",
    "Time from a task being ready (enqueued, or due) to an attempt starting, by queue and type",
    WAIT_BUCKETS,
  );
  #leaseExpired = 0;
  /** By queue label. */
  readonly #rejected = new Map<string, number>();
  /** By queue label. */
  readonly #dropped = new Map<string, number>();
  /** By queue and type label, in the order first seen. */
  readonly #overstayed = new Map<string, { queue: string; type: string; n: number }>();
  readonly #queues = new BoundedLabel(MAX_QUEUES);
  readonly #types: BoundedLabel;
  /** By queue label, then type label. */
  readonly #series = new Map<string, Map<string, Series>>();

  /** `knownType`: the task types that get their own series (handler types; the rest are `other`). */
  constructor(knownType: (type: string) => boolean) {
    this.#types = new BoundedLabel(500, knownType);
  }

  /** Registers `un_tasks_completed_total`, the run and wait histograms and the task counters. */
  register(registry: Registry, { Counter }: Prom): void {
    const registers = [registry];
    const series = this.#series;
    new Counter({
      name: "un_tasks_completed_total",
      help: "Task attempts and tasks that ended, by queue, type and outcome " +
        "(succeeded|failed|dead|cancelled|expired|retried)",
      labelNames: ["queue", "type", "outcome"],
      registers,
      collect() {
        this.reset();
        for (const byType of series.values()) {
          for (const { queue, type, outcomes } of byType.values()) {
            for (const [outcome, n] of outcomes) this.inc({ queue, type, outcome }, n);
          }
        }
      },
    });
    this.#run.register(registry);
    this.#wait.register(registry);
    const leaseExpired = () => this.#leaseExpired;
    new Counter({
      name: "un_lease_expired_total",
      help:
        "Running tasks whose lease ran out (their worker stopped renewing) and were put back or ended dead",
      registers,
      collect() {
        this.reset();
        this.inc(leaseExpired());
      },
    });
    const rejected = this.#rejected;
    new Counter({
      name: "un_tasks_rejected_total",
      help: "Hook-made tasks their full queue refused (queues.<name>.maxSize), by queue",
      labelNames: ["queue"],
      registers,
      collect() {
        this.reset();
        for (const [queue, n] of rejected) this.inc({ queue }, n);
      },
    });
    const dropped = this.#dropped;
    new Counter({
      name: "un_tasks_dropped_total",
      help:
        "Queued tasks a full queue dropped to make room for a hook-made task (overflow drop-oldest or drop-lowest-priority), by queue",
      labelNames: ["queue"],
      registers,
      collect() {
        this.reset();
        for (const [queue, n] of dropped) this.inc({ queue }, n);
      },
    });
    const overstayed = this.#overstayed;
    new Counter({
      name: "un_tasks_overstayed_total",
      help: "Attempts whose in-process handler still ran workers.killAfterMs after a timeout, " +
        "cancel or shutdown stopped them (task.overstayed), by queue and type",
      labelNames: ["queue", "type"],
      registers,
      collect() {
        this.reset();
        for (const { queue, type, n } of overstayed.values()) this.inc({ queue, type }, n);
      },
    });
  }

  /** Takes note of a task event (any other event is ignored). */
  observe(event: CloudEvent): void {
    const data = event.data as Record<string, unknown> | null;
    if (data === null || typeof data !== "object") return;
    if (event.type === "task.started") {
      if (typeof data.waitMs === "number") {
        this.#wait.observe(this.#seriesOf(data).wait, Math.max(0, data.waitMs) / 1000);
      }
      return;
    }
    if (event.type === "task.rejected" || event.type === "task.dropped") {
      const counts = event.type === "task.rejected" ? this.#rejected : this.#dropped;
      const queue = this.#queues.of(data.queue);
      counts.set(queue, (counts.get(queue) ?? 0) + 1);
      return;
    }
    if (event.type === "task.overstayed") {
      const queue = this.#queues.of(data.queue);
      const type = this.#types.of(data.type);
      const key = JSON.stringify([queue, type]);
      const seen = this.#overstayed.get(key);
      if (seen === undefined) this.#overstayed.set(key, { queue, type, n: 1 });
      else seen.n++;
      return;
    }
    if (data.reason === "stalled" && data.from === "running") this.#leaseExpired++;
    const outcome = OUTCOMES[event.type];
    if (outcome === undefined) return;
    const series = this.#seriesOf(data);
    series.outcomes.set(outcome, (series.outcomes.get(outcome) ?? 0) + 1);
    if (typeof data.durationMs === "number") {
      this.#run.observe(series.run, Math.max(0, data.durationMs) / 1000);
    }
  }

  /** Counts running tasks found stalled without an event (the embedded store at start-up). */
  leaseExpired(count: number): void {
    if (count > 0) this.#leaseExpired += count;
  }

  #seriesOf(data: Record<string, unknown>): Series {
    const queue = this.#queues.of(data.queue);
    const type = this.#types.of(data.type);
    let byType = this.#series.get(queue);
    if (byType === undefined) this.#series.set(queue, byType = new Map());
    let series = byType.get(type);
    if (series === undefined) {
      const labels = { queue, type };
      series = {
        queue,
        type,
        outcomes: new Map(),
        run: this.#run.series(labels),
        wait: this.#wait.series(labels),
      };
      byType.set(type, series);
    }
    return series;
  }
}
