/**
 * A `redis-server` of the test's own, on a free port, with AOF on (or, when
 * asked, no persistence at all), so a test can stop, kill and restart it (the
 * shared Redis on 6379 must never be).
 */

import { join } from "node:path";
import { closedPort } from "./http.ts";

/** A running test Redis. */
export interface TestRedis {
  port: number;
  url: string;
  dir: string;
  /** Stops it (SIGTERM; AOF is flushed), waits for the exit. */
  stop(): Promise<void>;
  /** Kills it hard (SIGKILL). */
  kill(): Promise<void>;
  /** Starts it again on the same port and data dir (AOF replays; without persistence it comes back empty). */
  restart(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** True when `redis-server` is installed. */
export function hasRedisServer(): boolean {
  try {
    new Deno.Command("redis-server", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync();
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks for `redis-server` once, before a file registers its tests: `ignore`
 * for their `Deno.test` options, `suffix` for their names. Under `CI=true` a
 * missing server registers a failing test named after `what`.
 *
 * @example
 * ```ts
 * const { ignore, suffix } = redisServerForTests("bridge");
 * Deno.test({ name: `bridge: a restart is ridden out${suffix}`, ignore, fn() {} });
 * ```
 */
export function redisServerForTests(what: string): { ignore: boolean; suffix: string } {
  const installed = hasRedisServer();
  if (!installed && Deno.env.get("CI") === "true") {
    Deno.test(`${what}: redis-server must be installed when CI=true`, () => {
      throw new Error("redis-server not found (CI=true requires it)");
    });
  }
  return { ignore: !installed, suffix: installed ? "" : " (ignored: no redis-server)" };
}

async function waitPort(port: number, up: boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      if (up) return;
    } catch {
      if (!up) return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis on port ${port} did not go ${up ? "up" : "down"} in ${timeoutMs}ms`);
}

/**
 * Options of {@link startRedis}.
 *
 * @example
 * ```ts
 * const options: StartRedisOptions = { persistence: false };
 * ```
 */
export interface StartRedisOptions {
  /** False: neither AOF nor RDB, so a restart loses everything (default true: AOF). */
  persistence?: boolean;
}

/**
 * Starts a private redis-server (AOF `appendfsync always`, so a restart keeps
 * every acknowledged write; with `persistence: false`, none).
 *
 * @example
 * ```ts
 * await using redis = await startRedis();
 * // ... UN_REDIS_URL: redis.url ...
 * await redis.restart();
 * ```
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const persistence = options.persistence ?? true;
  const dir = await Deno.makeTempDir({ prefix: "un_redis_" });
  const port = closedPort();
  let proc: Deno.ChildProcess | null = null;
  const spawn = async () => {
    proc = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--appendonly",
        persistence ? "yes" : "no",
        "--appendfsync",
        "always",
        "--save",
        "",
        "--logfile",
        join(dir, "redis.log"),
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitPort(port, true, 10_000);
  };
  const end = async (signal: Deno.Signal) => {
    const p = proc as Deno.ChildProcess | null;
    if (!p) return;
    try {
      p.kill(signal);
    } catch {
      // already gone
    }
    await p.status;
    proc = null;
    await waitPort(port, false, 5_000);
  };
  await spawn();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
    restart: async () => {
      await end("SIGTERM");
      await spawn();
    },
    [Symbol.asyncDispose]: async () => {
      await end("SIGKILL");
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
