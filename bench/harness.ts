/**
 * Shared pieces of the benchmarks: an in-process runtime on a fresh embedded
 * store, and the JSON line each benchmark prints last.
 */

import { parseConfig } from "../lib/config/load.ts";
import { loadHandlers } from "../lib/handlers/load.ts";
import { silentLogger } from "../lib/log.ts";
import { Runtime } from "../runtime/runtime.ts";
import type { Role } from "../runtime/roles.ts";

/**
 * Starts a runtime on a temp-dir store with the given config overrides.
 *
 * @example
 * ```ts
 * const { runtime, cleanup } = await benchRuntime({ workers: { concurrency: 16 } });
 * ```
 */
export async function benchRuntime(
  overrides: Record<string, unknown>,
  role: Role = "all",
): Promise<{ runtime: Runtime; dir: string; cleanup(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "un-bench-" });
  const config = parseConfig({ store: { path: `${dir}/store` }, ...overrides });
  const handlers = await loadHandlers(config, { cwd: dir });
  const runtime = await Runtime.start({
    config,
    role,
    handlers,
    log: silentLogger,
    inspect: false,
  });
  return {
    runtime,
    dir,
    cleanup: async () => {
      await runtime.stop("bench done");
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/**
 * The no-op workload of `embedded_tasks_per_s` and `rate_limited_tasks_per_s`
 * (one shape, so their ratio compares like with like): `n` `noop` tasks sent
 * a thousand per turn, then waited for; resolves with the milliseconds from
 * the first enqueue to the last success.
 */
export async function runNoops(runtime: Runtime, n: number): Promise<number> {
  let succeeded = 0;
  const off = runtime.subscribe("task.succeeded", () => {
    succeeded++;
  });
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    runtime.send({ type: "task.enqueue", request: { type: "noop", payload: { i } } });
    if (i % 1_000 === 999) await new Promise((r) => setTimeout(r, 0));
  }
  await until(() => succeeded >= n, 120_000, "all tasks to succeed");
  const elapsed = performance.now() - started;
  off();
  return elapsed;
}

/** Prints a benchmark's figures as one JSON line (the runner reads the last line). */
export function report(figures: Record<string, number | string | Record<string, number>>): void {
  console.log(JSON.stringify(figures));
}

/** Waits until `done()` or the deadline; throws with `what` on timeout. */
export async function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The p-th percentile (0..100) of numbers. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}
