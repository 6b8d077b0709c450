/**
 * embedded_tasks_per_s: enqueue and run 20 000 `noop` tasks at concurrency 16
 * on the embedded (durable) store, from the first enqueue to the last success.
 * embedded_cpu_us_per_task: the process's CPU time (all its threads, user and
 * system) over the same span, per task: on a machine others share, it moves
 * far less than the rate, so before/after comparisons read it first.
 */

import process from "node:process";
import { benchRuntime, report, runNoops } from "./harness.ts";

const N = 20_000;

const { runtime, cleanup } = await benchRuntime({ workers: { concurrency: 16 } });
const cpuAtStart = process.cpuUsage();
const elapsed = await runNoops(runtime, N);
const cpu = process.cpuUsage(cpuAtStart);
const counts = await runtime.store.queueCounts();
if (counts.default?.succeeded !== N) {
  throw new Error(`expected ${N} succeeded, got ${JSON.stringify(counts)}`);
}
report({
  embedded_tasks_per_s: Math.round(N / (elapsed / 1_000)),
  embedded_cpu_us_per_task: Math.round((cpu.user + cpu.system) / N),
});
await cleanup();
