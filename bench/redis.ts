/**
 * `deno task bench --redis`: un on Redis against BullMQ on the same Redis, in
 * the same run, interleaved (un, then BullMQ, for each workload and point) so
 * the machine's noise hits both alike.
 *
 * - `redis_tasks_per_s`: one in-process runtime, concurrency 16, enqueues
 *   (batches of 1 000) and runs 20 000 `noop`, after 80 000 untimed to warm up;
 *   `bullmq_tasks_per_s` the same with `addBulk` and one Worker. Five
 *   interleaved pairs: each figure is the median of its runs, and
 *   `redis_vs_bullmq` the median of the pairs' un / BullMQ.
 *   `redis_cpu_us_per_task` is the CPU one no-op task cost (our process +
 *   Redis, median of the runs), and `redis_cpu_vs_bullmq` the median of the
 *   pairs' BullMQ CPU / ours: steadier than throughput on a shared machine,
 *   where how well the client and Redis overlap on two cores moves the rate.
 * - `redis_scaleout`: 1, 2 and 4 worker processes of concurrency 16 on
 *   4 000 × N `sleep` tasks of 20 ms, enqueued first; tasks/s per N and
 *   `efficiency` = tput(4) / (4 × tput(1)). `bullmq_scaleout` the same;
 *   `bullmq_scaleout_vs` = un / BullMQ at 4 processes.
 *
 * Sleep tasks wait rather than compute, so 4 processes can scale on our 2
 * cores: at 16 × 20 ms one process asks for ~800 tasks/s, a small part of a
 * core. Redis is `UN_BENCH_REDIS_URL` or a private server (redis_server.ts);
 * each workload uses its own key prefix and deletes it after.
 */

import { report } from "./harness.ts";
import { BullmqBench } from "./redis-bullmq.ts";
import { benchRedis } from "./redis-server.ts";
import { type Throughput, unScaleoutPoint, unTasksPerSecond } from "./redis-un.ts";

const TASKS = 20_000;
/**
 * Untimed tasks before the first measured run, on each side. V8 goes on
 * optimizing un's code well past 20 000 tasks (measured here: ~68 µs of CPU
 * per task after 20 000, ~57 µs after 80 000), while BullMQ's figure is the
 * same after 20 000 and after 80 000 (91–96 µs): 80 000 measures both in their
 * steady state. BullMQ runs each pair in a fresh process, so it warms up this
 * long before each of its runs; un's runtime warms once and stays warm.
 */
const WARMUP_TASKS = 80_000;
/** Interleaved un / BullMQ no-op runs; the figures are their medians (odd, so one run is the median). */
const PAIRS = 5;
const CONCURRENCY = 16;
const PROCESSES = [1, 2, 4] as const;
/** Per worker process: ~5 s of work at 16 × 20 ms, long enough to dwarf start-up jitter. */
const SLEEP_TASKS_PER_PROCESS = 4_000;
const SLEEP_MS = 20;

type Scaleout = Record<string, number>;

await using redis = await benchRedis();
console.error(`redis bench on ${redis.private ? "a private redis-server" : redis.url}`);
const bullmq = await BullmqBench.prepare(redis.url, redis.pid);
let bullmqError: string | null = bullmq instanceof BullmqBench ? null : bullmq.unavailable;
if (bullmqError) console.error(`BullMQ figures unavailable: ${bullmqError}`);

/** Runs a BullMQ step; a failure makes the BullMQ figures unavailable, never the bench. */
async function bullmqStep(
  step: (b: BullmqBench) => Promise<Throughput>,
): Promise<Throughput | null> {
  if (!(bullmq instanceof BullmqBench) || bullmqError) return null;
  try {
    return await step(bullmq);
  } catch (error) {
    bullmqError = (error as Error).message;
    console.error(`BullMQ figures unavailable: ${bullmqError}`);
    return null;
  }
}

/** One stderr line: the figure and the CPU each task cost in the client(s) and in Redis. */
function describe(what: string, run: Throughput | null): string {
  if (run === null) return `${what}: -`;
  return `${what}: ${run.perSecond}/s, CPU per task ${run.clientCpuUsPerTask} µs in the ` +
    `client process(es) + ${run.redisCpuUsPerTask} µs in Redis`;
}

// Untimed first, on each side, so both are measured warm (compiled by the
// JIT), as a long-running service runs: cold, the first seconds of either
// measure its compiler as much as its queue. Then PAIRS interleaved pairs:
// this machine's speed drifts between minutes, and a pair's two runs are
// seconds apart, so the median of the pairs' ratios is the steadiest figure.
await unTasksPerSecond(redis.url, redis.pid, WARMUP_TASKS, CONCURRENCY);
const unRuns: number[] = [];
const bullRuns: number[] = [];
const pairRatios: number[] = [];
const unCpu: number[] = [];
const cpuRatios: number[] = [];
for (let pair = 1; pair <= PAIRS; pair++) {
  const un = await unTasksPerSecond(redis.url, redis.pid, TASKS, CONCURRENCY);
  unRuns.push(un.perSecond);
  unCpu.push(cpuPerTask(un));
  console.error(describe(`un noop (${pair}/${PAIRS})`, un));
  const bull = await bullmqStep((b) => b.tasksPerSecond(TASKS, CONCURRENCY, WARMUP_TASKS));
  console.error(describe(`bullmq noop (${pair}/${PAIRS})`, bull));
  if (bull === null) continue;
  bullRuns.push(bull.perSecond);
  pairRatios.push(un.perSecond / bull.perSecond);
  cpuRatios.push(cpuPerTask(bull) / cpuPerTask(un));
}

const unScale: Scaleout = {};
const bullScale: Scaleout = {};
for (const n of PROCESSES) {
  const tasks = SLEEP_TASKS_PER_PROCESS * n;
  const un = await unScaleoutPoint(redis.url, redis.pid, n, tasks, CONCURRENCY, SLEEP_MS);
  unScale[n] = un.perSecond;
  console.error(describe(`un sleep, ${n} worker process(es)`, un));
  const bull = await bullmqStep((b) => b.scaleoutPoint(n, tasks, CONCURRENCY, SLEEP_MS));
  if (bull !== null) bullScale[n] = bull.perSecond;
  console.error(describe(`bullmq sleep, ${n} worker process(es)`, bull));
}
unScale.efficiency = round2(unScale[4] / (4 * unScale[1]));

const figures: Record<string, number | string | Scaleout> = {
  redis_tasks_per_s: median(unRuns),
  redis_cpu_us_per_task: knownCpu(median(unCpu)),
  redis_scaleout: unScale,
};
if (bullmqError === null && bullRuns.length === PAIRS) {
  bullScale.efficiency = round2(bullScale[4] / (4 * bullScale[1]));
  figures.bullmq_tasks_per_s = median(bullRuns);
  figures.redis_vs_bullmq = round2(median(pairRatios));
  figures.redis_cpu_vs_bullmq = knownCpu(round2(median(cpuRatios)));
  figures.bullmq_scaleout = bullScale;
  figures.bullmq_scaleout_vs = round2(unScale[4] / bullScale[4]);
} else {
  const why = `unavailable: ${bullmqError}`;
  const keys = [
    "bullmq_tasks_per_s",
    "redis_vs_bullmq",
    "redis_cpu_vs_bullmq",
    "bullmq_scaleout",
    "bullmq_scaleout_vs",
  ];
  for (const key of keys) figures[key] = why;
}
report(figures);

/** CPU of one task in the client process(es) and in Redis (µs; NaN when Redis is not ours). */
function cpuPerTask(run: Throughput): number {
  return run.clientCpuUsPerTask + run.redisCpuUsPerTask;
}

/** Redis's CPU is read from /proc only for a server the bench started itself. */
function knownCpu(x: number): number | string {
  return Number.isNaN(x) ? "unavailable: Redis's CPU is not ours to read (UN_BENCH_REDIS_URL)" : x;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
