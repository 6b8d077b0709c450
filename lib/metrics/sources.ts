/**
 * Source metrics. Scan durations are reported by the scanners themselves
 * (lib/metrics/scan-times.ts): every scan this process ran, periodic or asked
 * for (`POST /un/sources/:id/scan`, `un scan`); the last scan time and
 * the failures come from the status each scanner keeps in the store (what
 * `GET /un/sources` shows), read at scrape time. The status holds consecutive
 * failures, so `un_source_failures_total` adds each rise of that count seen
 * since this process started. On a shared store every process reads the
 * same statuses: aggregate these with `max`, not `sum`.
 */

import type { Registry } from "prom-client";
import type { SourceStatus } from "../sources/scanner.ts";
import type { Store } from "../store/types.ts";
import { FastHistogram } from "./histogram.ts";
import { BoundedLabel, OTHER } from "./labels.ts";
import type { MetricPart, Prom } from "./prom.ts";

/** How many distinct sources get their own series. */
const MAX_SOURCES = 100;

/** Seconds: from a feed that answers 304 to a large directory walk. */
const SCAN_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** What was last seen of a source's failures. */
interface Seen {
  at: number | null;
  failures: number;
}

/**
 * The source metrics of one runtime, kept in plain numbers and handed to the
 * registry at scrape time.
 */
export class SourceMetrics implements MetricPart {
  readonly #scan = new FastHistogram(
    "un_source_scan_seconds",
    "Duration of the scans and polls of a source this process ran (periodic or asked for)",
    SCAN_BUCKETS,
  );
  /** By source label: failures counted since start, then the last status read. */
  readonly #failures = new Map<string, number>();
  readonly #lastScan = new Map<string, number>();
  readonly #consecutive = new Map<string, number>();
  readonly #labels = new BoundedLabel(MAX_SOURCES);
  readonly #seen = new Map<string, Seen>();

  /** `startedAt`: failures before it were counted by an earlier process. */
  constructor(private readonly startedAt: number) {}

  /** Registers the scan histogram and the failure and last-scan metrics. */
  register(registry: Registry, { Counter, Gauge }: Prom): void {
    const registers = [registry];
    const labelNames = ["source"] as const;
    this.#scan.register(registry);
    const failures = this.#failures;
    new Counter({
      name: "un_source_failures_total",
      help: "Failed scans or polls of a source seen since this process started (from its status)",
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const [source, n] of failures) this.inc({ source }, n);
      },
    });
    const lastScan = this.#lastScan;
    new Gauge({
      name: "un_source_last_scan_timestamp_seconds",
      help: "When a source was last scanned or polled, whether it worked or not (unix seconds)",
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const [source, at] of lastScan) this.set({ source }, at);
      },
    });
    const consecutive = this.#consecutive;
    new Gauge({
      name: "un_source_consecutive_failures",
      help: "Failures of a source in a row (0 once a scan works again)",
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const [source, n] of consecutive) this.set({ source }, n);
      },
    });
  }

  /** Takes note of one scan of `sourceId` that took `durationMs`. */
  scanned(sourceId: string, durationMs: number): void {
    // Scans are few: the series is looked up each time.
    const series = this.#scan.series({ source: this.#labels.of(sourceId) });
    this.#scan.observe(series, durationMs / 1000);
  }

  /** Reads every source's status from the store into the gauges and the failure counter. */
  async refresh(store: Store): Promise<void> {
    const sources = await store.listSources();
    const statuses = await Promise.all(
      sources.map((s) => store.getSourceState(s.id, "status").catch(() => null)),
    );
    this.#lastScan.clear();
    this.#consecutive.clear();
    sources.forEach((source, i) => {
      const label = this.#labels.of(source.id);
      const status = statuses[i] as Partial<SourceStatus> | null;
      // A gauge of `other` would hold whichever source came last: left out.
      if (label === OTHER || status === null || typeof status !== "object") return;
      if (typeof status.lastScanAt === "number") {
        this.#lastScan.set(label, status.lastScanAt / 1000);
      }
      const failures = typeof status.failures === "number" ? status.failures : 0;
      this.#consecutive.set(label, failures);
      const added = this.#newFailures(source.id, status.lastErrorAt ?? null, failures);
      if (added > 0) this.#failures.set(label, (this.#failures.get(label) ?? 0) + added);
    });
  }

  /** Failures since the status was last seen: the rise of the count, or a new streak's count. */
  #newFailures(id: string, at: number | null, failures: number): number {
    const seen = this.#seen.get(id);
    this.#seen.set(id, { at, failures });
    if (failures === 0 || at === null) return 0;
    if (seen === undefined) return at >= this.startedAt ? failures : 0;
    if (at === seen.at) return 0;
    return failures > seen.failures ? failures - seen.failures : failures;
  }
}
