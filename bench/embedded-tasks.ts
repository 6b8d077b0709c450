/**
 * embedded_tasks_per_s: enqueue and run 20 000 `noop` tasks at concurrency 16
 * on the embedded (durable) store, from the first enqueue to the last success.
 * embedded_cpu_us_per_task: the process's CPU time (all its threads, user and
 * system) over the same span, per task: on a machine others share, it moves
 * far less than the rate, so before/after comparisons read it first.
 */

import process from "node:process";
import { benchRuntime, report, until } from "./harness.ts";

const N = 20_000;

const { runtime, cleanup } = await benchRuntime({ workers: { concurrency: 16 } });
let succeeded = 0;
runtime.subscribe("task.succeeded", () => {
  succeeded++;
});
const cpuAtStart = process.cpuUsage();
const started = performance.now();
for (let i = 0; i < N; i++) {
  runtime.send({ type: "task.enqueue", request: { type: "noop", payload: { i } } });
  if (i % 1_000 === 999) await new Promise((r) => setTimeout(r, 0));
}
await until(() => succeeded >= N, 120_000, "all tasks to succeed");
const elapsed = performance.now() - started;
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
