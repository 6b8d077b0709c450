/**
 * `deno task bench --prioritizer`: does the learned prioritizer shorten waits?
 * A seeded, reproducible workload on the real embedded runtime, with sleeping
 * handlers, run three ways on fresh stores:
 *
 * - `fifo`: learning off, one priority (arrival order);
 * - `static`: priorities a user might guess (short 7, long 5, flaky 3: quick
 *   ones first, the unreliable ones last);
 * - `learned`: one priority, the Bayesian model on (after a warm-up that
 *   every way runs, so each is measured in its steady state).
 *
 * The mix: many short reliable tasks (10–30 ms), some long ones (300–800 ms),
 * a flaky type (40–120 ms, 30 % of attempts fail and are retried), arriving
 * as a Poisson stream at ~85 % of four workers' capacity. A task's wait is
 * its first attempt's `waitMs` (ready to started). Figures per way and type:
 * mean, p95 and p99 wait (ms); `learned_vs_fifo_mean_wait` is FIFO's mean
 * wait over all tasks ÷ the learned one's, `worst_type_p99_vs_fifo` the
 * largest ratio of a type's learned p99 to its FIFO p99 (starvation check).
 */

import { parseConfig } from "../lib/config/load.ts";
import { loadHandlers } from "../lib/handlers/load.ts";
import { defineHandler } from "../lib/handlers/types.ts";
import { silentLogger } from "../lib/log.ts";
import { ask } from "../lib/protocol/ask.ts";
import { Runtime } from "../runtime/runtime.ts";
import { percentile, report, until } from "./harness.ts";

const CONCURRENCY = 4;
const LOAD = 0.85;
const MEASURED = Number(Deno.env.get("UN_BENCH_PRIORITIZER_TASKS") ?? 1_500);
const WARMUP = 300;
const FAIL_P = 0.3;
const SEED = 20;

/** The types: share of arrivals and run-time range (ms). */
const MIX = {
  short: { share: 0.7, min: 10, max: 30 },
  long: { share: 0.1, min: 300, max: 800 },
  flaky: { share: 0.2, min: 40, max: 120 },
} as const;
type Kind = keyof typeof MIX;
const KINDS = Object.keys(MIX) as Kind[];

/** A seeded generator (mulberry32): the same workload every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Arrival {
  atMs: number;
  kind: Kind;
  ms: number;
  /** Attempts that fail before one succeeds (flaky only). */
  fails: number;
}

/** Mean work per arrival (ms), retries included: the flaky type runs 1/(1−p) times on average. */
function meanWork(): number {
  return KINDS.reduce((sum, k) => {
    const { share, min, max } = MIX[k];
    const attempts = k === "flaky" ? 1 / (1 - FAIL_P) : 1;
    return sum + share * ((min + max) / 2) * attempts;
  }, 0);
}

function workload(seed: number, count: number): Arrival[] {
  const next = random(seed);
  const gapMs = meanWork() / (CONCURRENCY * LOAD);
  const out: Arrival[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    at += -Math.log(1 - next()) * gapMs;
    const u = next();
    const kind = u < MIX.short.share
      ? "short"
      : u < MIX.short.share + MIX.long.share
      ? "long"
      : "flaky";
    const { min, max } = MIX[kind];
    let fails = 0;
    if (kind === "flaky") { while (next() < FAIL_P) fails++; }
    out.push({ atMs: at, kind, ms: Math.round(min + next() * (max - min)), fails });
  }
  return out;
}

/** Sleeps `payload.ms`; fails its first `payload.fails` attempts (transient: retried). */
const sleeper = defineHandler<{ ms: number; fails: number }, null>(async (task, ctx) => {
  await new Promise((r) => setTimeout(r, task.payload.ms));
  if (ctx.attempt <= task.payload.fails) throw new Error("transient failure");
  return null;
});

type Way = "fifo" | "static" | "learned";
const STATIC_PRIORITY: Record<Kind, number> = { short: 7, long: 5, flaky: 3 };

/** Runs the warm-up then the measured workload one way; the first attempts' waits by type. */
async function run(way: Way): Promise<Record<Kind, number[]>> {
  const dir = await Deno.makeTempDir({ prefix: "un-bench-prio-" });
  const config = parseConfig({
    store: { path: `${dir}/store` },
    workers: { concurrency: CONCURRENCY, maxAttempts: 20, backoffBaseMs: 10, backoffMaxMs: 50 },
    prioritizer: { learn: way === "learned" },
  });
  const handlers = { ...await loadHandlers(config, { cwd: dir }) };
  for (const kind of KINDS) handlers[kind] = sleeper;
  const runtime = await Runtime.start({ config, handlers, log: silentLogger, inspect: false });
  const waits: Record<Kind, number[]> = { short: [], long: [], flaky: [] };
  let measuring = false;
  let finished = 0;
  const measured = new Set<string>();
  runtime.subscribe("task.started", (event) => {
    const data = event.data as { id: string; type: Kind; attempt: number; waitMs: number };
    if (data.attempt === 1 && measuring && measured.has(data.id)) {
      waits[data.type].push(data.waitMs);
    }
  });
  const done = () => finished++;
  runtime.subscribe("task.succeeded", done);
  runtime.subscribe("task.dead", done);
  await runtime.subscribed();
  const feed = async (arrivals: Arrival[], measure: boolean) => {
    const start = performance.now();
    for (const a of arrivals) {
      const lag = start + a.atMs - performance.now();
      if (lag > 0) await new Promise((r) => setTimeout(r, lag));
      const request = {
        type: a.kind,
        payload: { ms: a.ms, fails: a.fails },
        priority: way === "static" ? STATIC_PRIORITY[a.kind] : 5,
      };
      const { task } = await ask(runtime, "task.enqueue", { request });
      if (measure) measured.add(task.id);
    }
  };
  await feed(workload(SEED + 1, WARMUP), false);
  await until(() => finished >= WARMUP, 120_000, "the warm-up to finish");
  // The learned statistics are written once a second and read at most every 5 s.
  await new Promise((r) => setTimeout(r, 6_000));
  measuring = true;
  await feed(workload(SEED, MEASURED), true);
  await until(() => finished >= WARMUP + MEASURED, 300_000, "the workload to finish");
  await runtime.stop("bench done");
  await Deno.remove(dir, { recursive: true });
  return waits;
}

const round = (x: number) => Math.round(x * 10) / 10;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const table: Record<string, Record<string, number>> = {};
const all: Record<Way, number[]> = { fifo: [], static: [], learned: [] };
const p99: Record<Way, Record<Kind, number>> = {} as Record<Way, Record<Kind, number>>;
for (const way of ["fifo", "static", "learned"] as Way[]) {
  const waits = await run(way);
  p99[way] = {} as Record<Kind, number>;
  for (const kind of KINDS) {
    const xs = waits[kind];
    all[way].push(...xs);
    p99[way][kind] = percentile(xs, 99);
    table[`${way}.${kind}`] = {
      n: xs.length,
      mean_wait_ms: round(mean(xs)),
      p95_wait_ms: round(percentile(xs, 95)),
      p99_wait_ms: round(percentile(xs, 99)),
    };
    console.error(`${way} ${kind}: ${JSON.stringify(table[`${way}.${kind}`])}`);
  }
  table[`${way}.all`] = { n: all[way].length, mean_wait_ms: round(mean(all[way])) };
}
const worst = Math.max(...KINDS.map((k) => p99.learned[k] / Math.max(1, p99.fifo[k])));
report({
  prioritizer_waits: Object.fromEntries(
    Object.entries(table).flatMap(([key, row]) =>
      Object.entries(row).map(([field, value]) => [`${key}.${field}`, value])
    ),
  ),
  learned_vs_fifo_mean_wait: Math.round(mean(all.fifo) / Math.max(0.1, mean(all.learned)) * 100) /
    100,
  static_vs_fifo_mean_wait: Math.round(mean(all.fifo) / Math.max(0.1, mean(all.static)) * 100) /
    100,
  worst_type_p99_vs_fifo: Math.round(worst * 100) / 100,
});
