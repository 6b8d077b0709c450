/**
 * `GET /metrics`: the runtime's metrics in the Prometheus text format. The
 * metrics themselves are in lib/metrics/ (runtime-metrics.ts composes them;
 * docs/metrics.md lists each with its labels).
 *
 * Built on `prom-client` rather than a hand-written writer: its registry
 * renders every metric with HELP, TYPE and escaped labels in an exposition
 * that `promtool check metrics` accepts, and its counters, gauges and
 * histograms run under Deno as they are. We use a `Registry` per runtime,
 * never its global one (tests run several runtimes in one process), and not
 * its `collectDefaultMetrics` (see lib/metrics/process.ts for why and what
 * replaces it). On the per-event path we keep plain numbers and hand them to
 * the registry at scrape time: prom-client's `inc`/`observe` hash the labels
 * on every call, a microsecond per task we need not spend
 * (lib/metrics/histogram.ts). That also lets prom-client itself, and the
 * registry, wait for the first scrape (lib/metrics/prom.ts).
 */

export { Counters } from "./counters.ts";
export { METRICS_CONTENT_TYPE, type MetricsHost, RuntimeMetrics } from "./runtime-metrics.ts";
