/**
 * The Redis the Redis benchmarks run on: `UN_BENCH_REDIS_URL` when set, else a
 * private `redis-server` on a free port with persistence off (the test helper's
 * server fsyncs every write, which would measure the disk, not the queues), so
 * the shared Redis on 6379 is never disturbed. Plus clean-up by key prefix.
 */

import { Redis } from "ioredis";

/**
 * A Redis for one benchmark run.
 *
 * @example
 * ```ts
 * await using redis = await benchRedis();
 * console.log(redis.url, redis.private);
 * ```
 */
export interface BenchRedis {
  url: string;
  /** True when this process started the server (and stops it on dispose). */
  private: boolean;
  /** The server's process id, to profile its CPU (null for an external Redis). */
  pid: number | null;
  [Symbol.asyncDispose](): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitUp(port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`private redis-server on port ${port} did not start in ${timeoutMs}ms`);
}

/**
 * `UN_BENCH_REDIS_URL`, or a private redis-server without persistence.
 *
 * @example
 * ```ts
 * await using redis = await benchRedis();
 * ```
 */
export async function benchRedis(): Promise<BenchRedis> {
  const external = Deno.env.get("UN_BENCH_REDIS_URL");
  if (external) {
    return { url: external, private: false, pid: null, [Symbol.asyncDispose]: async () => {} };
  }
  const port = freePort();
  const proc = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitUp(port, 10_000);
  } catch (error) {
    proc.kill("SIGKILL");
    await proc.status;
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    private: true,
    pid: proc.pid,
    [Symbol.asyncDispose]: async () => {
      proc.kill("SIGKILL");
      await proc.status;
    },
  };
}

/**
 * Deletes every key starting with `prefix` (SCAN + UNLINK, so a shared Redis
 * keeps everything else).
 *
 * @example
 * ```ts
 * await dropPrefix("redis://127.0.0.1:6379", "unbench-1:");
 * ```
 */
export async function dropPrefix(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, connectionName: "un-bench-cleanup" });
  await redis.connect();
  let dropped = 0;
  try {
    // A prefix is ours alone; glob characters in it would widen the match.
    const pattern = prefix.replace(/[*?[\]\\]/g, "\\$&") + "*";
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1_000);
      cursor = next;
      if (keys.length > 0) dropped += await redis.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    await redis.quit();
  }
  return dropped;
}

/**
 * A key prefix no other run uses.
 *
 * @example
 * ```ts
 * const prefix = uniquePrefix("un-tasks"); // "unbench:un-tasks:lq3x9a:"
 * ```
 */
export function uniquePrefix(what: string): string {
  return `unbench:${what}:${Date.now().toString(36)}${
    Math.floor(Math.random() * 1e6).toString(36)
  }:`;
}
