/**
 * Histograms for the task hot path. prom-client's `Histogram.observe` costs
 * about a microsecond (it validates and hashes the labels and turns the
 * bucket bound into a string key on every call); three of those per task
 * showed in the per-task budget. Here a series is looked up once and kept by
 * the caller, an observation is an array increment, and the registry renders
 * the series at scrape time like any of its own metrics (`registerMetric`
 * takes any object with prom-client's `get()` shape). Nothing here loads
 * prom-client: the histogram counts from the start and joins a registry when
 * the first scrape makes one (lib/metrics/prom.ts).
 */

import type { Registry } from "prom-client";

/** One sample, in the shape prom-client's registry renders. */
interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** One label set's observations. */
export interface HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  /** Per bucket, not cumulative (the last is +Inf). */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A histogram with cheap observations.
 *
 * @example
 * ```ts
 * const run = new FastHistogram("un_task_run_seconds", "Run time", [0.01, 0.1, 1]);
 * const series = run.series({ queue: "default", type: "noop" }); // keep it
 * run.observe(series, 0.004);
 * run.register(registry); // at the first scrape
 * ```
 */
export class FastHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #series = new Map<string, HistogramSeries>();
  readonly #bounds: Float64Array;

  constructor(readonly name: string, readonly help: string, buckets: readonly number[]) {
    this.#bounds = Float64Array.from([...buckets].sort((a, b) => a - b));
  }

  /** Puts the histogram on a registry, which renders its series from then on. */
  register(registry: Registry): void {
    registry.registerMetric(this as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  /** The series of a label set (made on first use); look it up once and keep it. */
  series(labels: Record<string, string>): HistogramSeries {
    const key = JSON.stringify(labels);
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { labels, counts: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    return series;
  }

  /** Records one observation. */
  observe(series: HistogramSeries, value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    series.counts[i]++;
    series.sum += value;
    series.count++;
  }

  /** The samples, as prom-client's registry renders them. */
  get(): { name: string; help: string; type: string; values: Sample[]; aggregator: string } {
    const values: Sample[] = [];
    for (const { labels, counts, sum, count } of this.#series.values()) {
      let cumulative = 0;
      this.#bounds.forEach((bound, i) => {
        cumulative += counts[i];
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le: bound, ...labels },
          value: cumulative,
        });
      });
      values.push(
        { metricName: `${this.name}_bucket`, labels: { le: "+Inf", ...labels }, value: count },
        { metricName: `${this.name}_sum`, labels, value: sum },
        { metricName: `${this.name}_count`, labels, value: count },
      );
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }
}
