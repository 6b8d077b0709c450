/**
 * `deno task bench --fanout`: one handler fans out CHILDREN no-op children
 * (`ctx.enqueue`, 1 000 at a time) and waits for them (`ctx.waitForChildren`),
 * at concurrency 16, on the embedded store and on Redis (a private server, or
 * `UN_BENCH_REDIS_URL`). What a fan-out costs beyond its children's work: the
 * batch settled as each child ends, and the parent's wait polling the batch.
 *
 * - `fanout_children_per_s_embedded` / `fanout_children_per_s_redis`: children
 *   per second from the parent's enqueue to its success (median of RUNS).
 * - `fanout_redis_cpu_us_per_child`: the Redis server's CPU per child (median;
 *   only for a server this bench started, whose /proc it can read).
 */

import process from "node:process";
import type { Runtime } from "../runtime/runtime.ts";
import { benchRuntime, report, until } from "./harness.ts";
import { processCpuSeconds } from "./redis-cpu.ts";
import { benchRedis, dropPrefix, uniquePrefix } from "./redis-server.ts";

const CHILDREN = Number(Deno.env.get("UN_BENCH_FANOUT_CHILDREN") ?? 5_000);
const RUNS = 3;
const CONCURRENCY = 16;

const handlersFile = await Deno.makeTempFile({ suffix: ".ts" });
await Deno.writeTextFile(
  handlersFile,
  `export default {
  fan: async (task, ctx) => {
    for (let i = 0; i < task.payload.n; i += 1000) {
      const n = Math.min(1000, task.payload.n - i);
      await ctx.enqueue(Array.from({ length: n }, (_, j) => ({ type: "noop", payload: { i: i + j } })));
    }
    const children = await ctx.waitForChildren();
    return { ended: children.length };
  },
};\n`,
);

/** One fan-out on a started runtime: children per second and the CPU it took. */
async function fanOnce(runtime: Runtime, redisPid: number | null) {
  let parentEnded: string | null = null;
  const stop = runtime.bus.subscribe(
    "task.*",
    (event) => {
      const data = event.data as { type?: string; state?: string } | null;
      if (data?.type !== "fan") return;
      if (["succeeded", "failed", "dead"].includes(data.state ?? "")) parentEnded = data.state!;
    },
    "bench",
    { remote: false },
  );
  try {
    const cpuBefore = process.cpuUsage();
    const redisBefore = redisPid === null ? NaN : await processCpuSeconds(redisPid);
    const started = performance.now();
    runtime.send({
      type: "task.enqueue",
      request: { type: "fan", payload: { n: CHILDREN }, timeoutMs: 600_000 },
    });
    await until(() => parentEnded !== null, 600_000, `a fan-out of ${CHILDREN}`);
    const elapsed = performance.now() - started;
    if (parentEnded !== "succeeded") throw new Error(`the fan-out parent ended ${parentEnded}`);
    const cpu = process.cpuUsage(cpuBefore);
    const redisCpu = redisPid === null ? NaN : (await processCpuSeconds(redisPid)) - redisBefore;
    return {
      perSecond: Math.round(CHILDREN / (elapsed / 1_000)),
      clientCpuUsPerChild: Math.round((cpu.user + cpu.system) / CHILDREN),
      redisCpuUsPerChild: Math.round((redisCpu * 1e6) / CHILDREN),
    };
  } finally {
    stop();
  }
}

async function runs(config: Record<string, unknown>, redisPid: number | null, what: string) {
  const { runtime, cleanup } = await benchRuntime({
    handlers: handlersFile,
    workers: { concurrency: CONCURRENCY },
    ...config,
  });
  const results = [];
  try {
    for (let i = 1; i <= RUNS; i++) {
      const run = await fanOnce(runtime, redisPid);
      console.error(
        `fan-out ${what} (${i}/${RUNS}): ${run.perSecond} children/s, CPU per child ` +
          `${run.clientCpuUsPerChild} µs in the process + ${run.redisCpuUsPerChild} µs in Redis`,
      );
      results.push(run);
    }
  } finally {
    await cleanup();
  }
  return results;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

try {
  const embedded = await runs({}, null, "embedded");
  await using redis = await benchRedis();
  const prefix = uniquePrefix("un-fanout");
  let onRedis;
  try {
    onRedis = await runs({ redis: { url: redis.url, prefix } }, redis.pid, "redis");
  } finally {
    await dropPrefix(redis.url, prefix);
  }
  const redisCpu = median(onRedis.map((r) => r.redisCpuUsPerChild));
  report({
    fanout_children_per_s_embedded: median(embedded.map((r) => r.perSecond)),
    fanout_children_per_s_redis: median(onRedis.map((r) => r.perSecond)),
    fanout_redis_cpu_us_per_child: Number.isNaN(redisCpu)
      ? "unavailable: Redis's CPU is not ours to read (UN_BENCH_REDIS_URL)"
      : redisCpu,
  });
} finally {
  await Deno.remove(handlersFile);
}
