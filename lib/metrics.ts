/**
 * `GET /metrics`: the runtime's metrics in the Prometheus text format. The
 * metrics themselves are in lib/metrics/ (runtime-metrics.ts composes them;
 * docs/metrics.md lists each with its labels).
 *
 * Built on `prom-client` rather than a hand-written writer: histograms
 * (buckets, sums, counts), label escaping and an exposition that
 * `promtool check metrics` accepts come with it, and it runs under Deno as
 * it is. We use a `Registry` per runtime, never its global one (tests run
 * several runtimes in one process), and not its `collectDefaultMetrics`
 * (see lib/metrics/process.ts for why and what replaces it).
 */

export { Counters } from "./metrics/counters.ts";
export {
  METRICS_CONTENT_TYPE,
  type MetricsHost,
  RuntimeMetrics,
} from "./metrics/runtime-metrics.ts";
