/**
 * rate_limited_tasks_per_s: the workload of embedded_tasks_per_s (20 000
 * `noop` tasks at concurrency 16 on the durable embedded store, first enqueue
 * to last success) on a queue with a rate limit so high it is never reached:
 * every claim checks and counts the limit's window, so the figure shows what
 * that costs (it should be within 10 % of embedded_tasks_per_s).
 * rate_limited_check_ratio: this rate over unlimited runs in the same process
 * (alternated, best of two each), so the comparison depends less on the
 * machine's load between two processes.
 */

import { benchRuntime, report, runNoops } from "./harness.ts";

const N = 20_000;

/** Tasks per second of N no-op tasks, with `queues` in the config. */
async function rate(queues: Record<string, unknown>): Promise<number> {
  const { runtime, cleanup } = await benchRuntime({ workers: { concurrency: 16 }, queues });
  const elapsed = await runNoops(runtime, N);
  const usage = await runtime.store.rateLimitUsage(Date.now());
  await cleanup();
  if (Object.keys(queues).length > 0 && usage.default === undefined) {
    throw new Error("the rate limit was not handed to the store");
  }
  return N / (elapsed / 1_000);
}

// Alternated twice, the best of each kept: the first run also pays for JIT warm-up.
const limit = { default: { rateLimit: { max: 1_000_000, perMs: 1_000 } } };
let unlimited = 0;
let limited = 0;
for (let round = 0; round < 2; round++) {
  unlimited = Math.max(unlimited, await rate({}));
  limited = Math.max(limited, await rate(limit));
}
report({
  rate_limited_tasks_per_s: Math.round(limited),
  rate_limited_check_ratio: Math.round((limited / unlimited) * 100) / 100,
});
