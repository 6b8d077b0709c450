/**
 * bulk_retry_10k_ms and bulk_claim_gap_ms: 10 000 dead tasks retried by one
 * bulk action while four workers keep claiming 5 ms tasks of another queue, on
 * the embedded store. The gap is the longest time between two claims during
 * the action: what a bulk action costs the tasks that keep running
 * (tests/bulk-actions.test.ts checks that claims go on; this measures how
 * smoothly).
 */

import { runBulk } from "../lib/tasks/bulk.ts";
import { bulkDeps } from "../routes/bulk.ts";
import { benchRuntime, report } from "./harness.ts";

const N = 10_000;
const handlersFile = await Deno.makeTempFile({ suffix: ".ts" });
await Deno.writeTextFile(
  handlersFile,
  `export default {
  doomed: () => { throw new Error("doomed"); },
  busy: (task, ctx) => new Promise((resolve) => setTimeout(resolve, task.payload.ms)),
};\n`,
);
const { runtime, cleanup } = await benchRuntime({
  handlers: handlersFile,
  workers: { concurrency: 4 },
});
const counts = async (queue: string) => (await runtime.store.queueCounts())[queue] ?? {};
const enqueue = async (n: number, request: Record<string, unknown>) => {
  for (let i = 0; i < n; i++) {
    runtime.send({ type: "task.enqueue", request: { type: "noop", ...request } });
    if (i % 1_000 === 999) await new Promise((r) => setTimeout(r, 0));
  }
};

await enqueue(N, { type: "doomed", queue: "doomed", maxAttempts: 1 });
let dead = 0;
const deadline = performance.now() + 120_000;
while (dead !== N) {
  if (performance.now() > deadline) throw new Error(`timed out: ${dead} of ${N} dead`);
  await new Promise((r) => setTimeout(r, 50));
  dead = (await counts("doomed")).dead ?? 0;
}

const starts: number[] = [];
runtime.subscribe("task.started", () => void starts.push(performance.now()));
await enqueue(3_000, { type: "busy", queue: "busy", payload: { ms: 5 } });
await new Promise((r) => setTimeout(r, 300));
const from = performance.now();
const result = await runBulk(bulkDeps(runtime), {
  action: "retry",
  filter: { state: "dead", queue: "doomed" },
});
const to = performance.now();
if (result.changed !== N) throw new Error(`expected ${N} retried, got ${JSON.stringify(result)}`);
const during = starts.filter((t) => t >= from && t <= to);
let gap = 0;
for (let i = 1; i < during.length; i++) gap = Math.max(gap, during[i] - during[i - 1]);
report({ bulk_retry_10k_ms: Math.round(to - from), bulk_claim_gap_ms: Math.round(gap) });
await cleanup();
await Deno.remove(handlersFile);
