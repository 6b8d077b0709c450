/**
 * What the bridge's black-box tests share: a test on a private redis-server,
 * the config of a cluster member, and looks at what the processes and the
 * hooks' consumer group hold.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import type { CloudEvent } from "../../lib/events/cloud-event.ts";
import type { Task } from "../../lib/tasks/task.ts";
import { api } from "./http.ts";
import { redisServerForTests, startRedis, type TestRedis } from "./redis-server.ts";
import type { UnProcess } from "./un-process.ts";

const { ignore, suffix } = redisServerForTests("bridge");

/**
 * A test on a private redis-server (started for it, stopped after). Its `un`
 * processes outlive Deno's per-test resource checks, which are off.
 *
 * @example
 * ```ts
 * bridgeTest("an event reaches the others", async (redis) => { ... });
 * ```
 */
export function bridgeTest(name: string, fn: (redis: TestRedis) => Promise<void>): void {
  Deno.test({
    name: `bridge: ${name}${suffix}`,
    ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      await using redis = await startRedis();
      await fn(redis);
    },
  });
}

/**
 * Config of a cluster member: hooks `x.*` → noop, short reclaim timings unless overridden.
 *
 * @example
 * ```ts
 * const a = await startUn({ config: memberConfig(redis, { streamMinIdleMs: 300 }) });
 * ```
 */
export function memberConfig(
  redis: TestRedis,
  redisExtra: Record<string, unknown> = {},
  workers: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    redis: {
      url: redis.url,
      prefix: "bridge-test:",
      streamReclaimMs: 200,
      streamMinIdleMs: 1_000,
      ...redisExtra,
    },
    workers: { concurrency: 2, ...workers },
    hooks: [{ on: "x.*", task: "noop" }],
  };
}

/**
 * The `noop` tasks a process lists (the hooks' tasks).
 *
 * @example
 * ```ts
 * assert.equal((await noopTasks(a)).length, 0);
 * ```
 */
export async function noopTasks(un: UnProcess): Promise<Task[]> {
  const res = await api<{ tasks: Task[] }>(un.url, "GET", "/un/tasks?type=noop&limit=1000");
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.tasks;
}

/**
 * Asserts one hook task per event id (by the task's correlation id), no more, no fewer.
 *
 * @example
 * ```ts
 * assertOneTaskPerEvent(await noopTasks(b), events);
 * ```
 */
export function assertOneTaskPerEvent(tasks: Task[], events: CloudEvent[]): void {
  const counts = new Map<string, number>();
  for (const task of tasks) {
    const id = task.correlationId ?? "?";
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const duplicated = [...counts].filter(([, n]) => n > 1);
  assert.deepEqual(duplicated, [], "events whose hook ran more than once");
  assert.deepEqual(
    [...counts.keys()].sort(),
    events.map((e) => e.id).sort(),
    "one hook task per event",
  );
}

/**
 * The bridge actor's state and restarts, from a process's `/health`.
 *
 * @example
 * ```ts
 * assert.equal((await bridgeState(a)).state, "up");
 * ```
 */
export async function bridgeState(un: UnProcess): Promise<{ state: string; restarts: number }> {
  const res = await api<{ actors: { id: string; state: string; restarts: number }[] }>(
    un.url,
    "GET",
    "/health",
  );
  const bridge = res.body.actors?.find((a) => a.id === "bridge");
  assert.ok(bridge, `no bridge actor: ${JSON.stringify(res.body)}`);
  return bridge;
}

/**
 * A direct client for looking at the stream's consumer group.
 *
 * @example
 * ```ts
 * const groups = await withAdmin(redis, (admin) => admin.xinfo("GROUPS", "bridge-test:events:stream"));
 * ```
 */
export async function withAdmin<T>(redis: TestRedis, fn: (admin: Redis) => Promise<T>): Promise<T> {
  const admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  admin.on("error", () => {});
  try {
    await admin.connect();
    return await fn(admin);
  } finally {
    admin.disconnect();
  }
}

/**
 * `XPENDING` summary of the hooks group: how many entries, per consumer.
 *
 * @example
 * ```ts
 * assert.equal((await pendingOf(redis)).count, 0);
 * ```
 */
export function pendingOf(
  redis: TestRedis,
): Promise<{ count: number; consumers: Map<string, number> }> {
  return withAdmin(redis, async (admin) => {
    const [count, , , consumers] = await admin.xpending(
      "bridge-test:events:stream",
      "bridge-test:hooks",
    ) as [number, string | null, string | null, [string, string][] | null];
    return {
      count,
      consumers: new Map((consumers ?? []).map(([name, n]) => [name, Number(n)])),
    };
  });
}
