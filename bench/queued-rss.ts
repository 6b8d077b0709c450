/**
 * rss_mb_100k_queued: resident memory of a runtime on the embedded store
 * holding 100 000 queued tasks (target ≤ 200 MB). The tasks are created as
 * hook bursts are (`task.enqueue`, a thousand per turn, the next once the one
 * before is stored) on a queue no worker takes from, so they all stay queued;
 * RSS is read once the last is stored and the process has settled a moment.
 */

import { benchRuntime, report, until } from "./harness.ts";

const N = 100_000;
const SETTLE_MS = 2_000;

const { runtime, cleanup } = await benchRuntime({ workers: { queues: ["elsewhere"] } });
let queued = 0;
runtime.subscribe("task.queued", () => {
  queued++;
});
const idleMb = Deno.memoryUsage().rss / 1024 / 1024;
for (let i = 0; i < N; i++) {
  runtime.send({ type: "task.enqueue", request: { type: "noop", queue: "held", payload: { i } } });
  // A thousand per turn, at most two thousand unstored: the figure is what
  // the tasks hold once queued, not the peak of a hundred thousand in flight.
  if (i % 1_000 === 999) await until(() => queued >= i - 1_000, 60_000, "a burst to be stored");
}
await until(() => queued >= N, 300_000, "all tasks to be queued");
await new Promise((r) => setTimeout(r, SETTLE_MS));
const counts = await runtime.store.queueCounts();
if (counts.held?.queued !== N) {
  throw new Error(`expected ${N} queued, got ${JSON.stringify(counts)}`);
}
const rssMb = Deno.memoryUsage().rss / 1024 / 1024;
report({
  rss_mb_100k_queued: Math.round(rssMb * 10) / 10,
  rss_mb_before_queueing: Math.round(idleMb * 10) / 10,
});
await cleanup();
