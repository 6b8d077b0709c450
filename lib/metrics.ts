/**
 * Counters for `GET /metrics` in the Prometheus text format.
 *
 * Hand-written: `prom-client` keeps one process-wide registry and collects
 * Node-specific default metrics; we expose a handful of counters and gauges,
 * which is a few lines of text.
 */

/** A metric sample: name, labels, value. */
export interface Sample {
  name: string;
  help: string;
  type: "counter" | "gauge";
  labels?: Record<string, string>;
  value: number;
}

/**
 * Counts by name and label set.
 *
 * @example
 * ```ts
 * const m = new Counters();
 * m.inc("un_events_total", { type: "task" });
 * ```
 */
export class Counters {
  #values = new Map<string, { name: string; labels: Record<string, string>; value: number }>();

  /** Adds `by` (default 1). */
  inc(name: string, labels: Record<string, string> = {}, by = 1): void {
    // Counted per event: a key built by hand, not by JSON.stringify.
    let key = name;
    for (const label in labels) key += `\u0000${label}=${labels[label]}`;
    const entry = this.#values.get(key);
    if (entry) entry.value += by;
    else this.#values.set(key, { name, labels, value: by });
  }

  /** Current samples of one counter. */
  samples(name: string, help: string): Sample[] {
    return [...this.#values.values()]
      .filter((v) => v.name === name)
      .map((v) => ({ name, help, type: "counter" as const, labels: v.labels, value: v.value }));
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/**
 * Renders samples as Prometheus text (version 0.0.4).
 *
 * @example
 * ```ts
 * renderMetrics([{ name: "un_up", help: "1 when up", type: "gauge", value: 1 }]);
 * ```
 */
export function renderMetrics(samples: Sample[]): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const s of samples) {
    if (!seen.has(s.name)) {
      seen.add(s.name);
      lines.push(`# HELP ${s.name} ${s.help}`, `# TYPE ${s.name} ${s.type}`);
    }
    const labels = s.labels && Object.keys(s.labels).length
      ? `{${Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`
      : "";
    lines.push(`${s.name}${labels} ${s.value}`);
  }
  return lines.join("\n") + "\n";
}
