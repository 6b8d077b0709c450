/**
 * Where un's time goes on Redis: runs the `redis_tasks_per_s` workload alone
 * and prints, as JSON, the wall time, this process's CPU, the Redis server's
 * CPU and Redis's own per-command figures (`INFO commandstats`: calls and
 * microseconds), so one can tell whether our JavaScript, Redis or the round
 * trips between them bound the throughput. Add `--cpu-prof` to see inside the
 * JavaScript:
 *
 *   deno run -A --cpu-prof --cpu-prof-dir=/tmp/un-prof bench/redis-profile.ts
 *
 * Not part of `deno task bench`; a tool for working on the Redis store.
 */

import process from "node:process";
import { Redis } from "ioredis";
import { processCpuSeconds } from "./redis-cpu.ts";
import { benchRedis } from "./redis-server.ts";
import { unTasksPerSecond } from "./redis-un.ts";

const TASKS = Number(Deno.env.get("UN_BENCH_TASKS") ?? 20_000);
const CONCURRENCY = Number(Deno.env.get("UN_BENCH_CONCURRENCY") ?? 16);

/**
 * `INFO commandstats` as `{ command: { calls, usec } }`.
 *
 * @example
 * ```ts
 * const stats = await commandStats(redis); // { evalsha: { calls: 812, usec: 301234 } }
 * ```
 */
export async function commandStats(
  redis: Redis,
): Promise<Record<string, { calls: number; usec: number }>> {
  const text = await redis.info("commandstats");
  const out: Record<string, { calls: number; usec: number }> = {};
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    out[match[1]] = { calls: Number(match[2]), usec: Number(match[3]) };
  }
  return out;
}

if (import.meta.main) {
  await using server = await benchRedis();
  const redis = new Redis(server.url);
  await redis.config("RESETSTAT");
  const cpu0 = process.cpuUsage();
  const redisCpu0 = server.pid ? await processCpuSeconds(server.pid) : NaN;
  const started = performance.now();
  const run = await unTasksPerSecond(server.url, server.pid, TASKS, CONCURRENCY);
  const wall = (performance.now() - started) / 1_000;
  const cpu = process.cpuUsage(cpu0);
  const redisCpu = server.pid ? (await processCpuSeconds(server.pid)) - redisCpu0 : NaN;
  const stats = await commandStats(redis);
  redis.disconnect();
  const perTask = (usec: number) => Math.round((usec / TASKS) * 10) / 10;
  console.log(JSON.stringify({
    tasks_per_s: run.perSecond,
    // Includes start-up and clean-up around the measured window.
    wall_s: round(wall),
    deno_cpu_s: round((cpu.user + cpu.system) / 1e6),
    redis_cpu_s: round(redisCpu),
    redis_commands: Object.fromEntries(
      Object.entries(stats)
        .sort(([, a], [, b]) => b.usec - a.usec)
        .map(([name, s]) => [name, { calls: s.calls, usec_per_task: perTask(s.usec) }]),
    ),
  }));
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
