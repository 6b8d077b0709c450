/**
 * Reading `/metrics` as Prometheus would: `promtool check metrics` (Debian's
 * `prometheus` package) and a client library's exposition parser
 * (`parse-prometheus-text-format`, a port of client_python's). That parser
 * folds a labelled histogram's series into one and drops their `_count`, so
 * histogram counts are read from the `_count` samples of the text itself.
 */

import assert from "node:assert/strict";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import type { UnProcess } from "./un-process.ts";

/** One parsed metric family. */
export interface Family {
  name: string;
  help: string;
  type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
  metrics: Array<{
    labels?: Record<string, string>;
    value?: string;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }>;
}

/**
 * `/metrics` of a running un, as text and parsed by family name.
 *
 * @example
 * ```ts
 * const { text, families } = await scrape(un);
 * total(families, "un_tasks_completed_total"); // 1000
 * ```
 */
export async function scrape(un: UnProcess): Promise<Scrape> {
  const res = await fetch(`${un.url}/metrics`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const parsed = parsePrometheusTextFormat(text) as Family[];
  return { text, families: new Map(parsed.map((f) => [f.name, f])) };
}

/** A scrape: the text and its families by name. */
export interface Scrape {
  text: string;
  families: Map<string, Family>;
}

/** Sum of a counter's or gauge's values over its label sets (a histogram: of its counts). */
export function total(scraped: Scrape, name: string): number {
  const family = scraped.families.get(name);
  assert.ok(family, `no metric ${name}`);
  if (family.type !== "HISTOGRAM") {
    return family.metrics.reduce((sum, m) => sum + Number(m.value), 0);
  }
  let sum = 0;
  for (
    const match of scraped.text.matchAll(new RegExp(`^${name}_count(?:\\{.*\\})? (\\S+)$`, "gm"))
  ) {
    sum += Number(match[1]);
  }
  return sum;
}

/** The label sets of a histogram's series (from its `_count` samples). */
export function histogramSeries(scraped: Scrape, name: string): string[] {
  return [...scraped.text.matchAll(new RegExp(`^${name}_count(\\{.*\\})? `, "gm"))]
    .map((m) => m[1] ?? "");
}

/** The `promtool` on PATH, or null. */
export function findPromtool(): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/promtool`).isFile) return `${dir}/promtool`;
    } catch { /* not here */ }
  }
  return null;
}

/**
 * Runs `promtool check metrics` on an exposition; resolves with its complaints
 * (empty when it passes).
 *
 * @example
 * ```ts
 * assert.equal(await promtoolCheck(promtool, text), "");
 * ```
 */
export async function promtoolCheck(promtool: string, text: string): Promise<string> {
  const child = new Deno.Command(promtool, {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return out.success ? "" : said || `promtool exited ${out.code}`;
}
