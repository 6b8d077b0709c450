/**
 * The `un` side of `deno task bench --redis`: no-op throughput of one
 * in-process runtime, and scale-out over worker processes (`un start --role
 * worker`). bench/bullmq/run.mjs does the same two workloads with BullMQ.
 */

import process from "node:process";
import { ask } from "../lib/protocol/ask.ts";
import type { TaskRequest } from "../lib/protocol/messages.ts";
import { RedisStore } from "../lib/store/redis/store.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { benchRuntime, until } from "./harness.ts";
import { dropPrefix, uniquePrefix } from "./redis-server.ts";
import { startWorkers } from "./redis-workers.ts";
import { processCpuSeconds, totalCpuSeconds } from "./redis-cpu.ts";

/**
 * Extra `deno run` flags of the scale-out's worker processes, to profile them:
 * `UN_BENCH_WORKER_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/un-prof" deno task bench --redis`.
 */
const WORKER_FLAGS = (Deno.env.get("UN_BENCH_WORKER_FLAGS") ?? "").split(" ").filter(Boolean);

/** Tasks per `task.enqueueMany`: the size of one `POST /un/tasks/create` batch, and of BullMQ's `addBulk` here. */
const BATCH = 1_000;

async function enqueueAll(runtime: Runtime, count: number, request: TaskRequest): Promise<void> {
  for (let i = 0; i < count; i += BATCH) {
    const requests = Array.from(
      { length: Math.min(BATCH, count - i) },
      (_, j) => ({ ...request, payload: { ...request.payload as object, i: i + j } }),
    );
    await ask(runtime, "task.enqueueMany", { requests }, { timeoutMs: 60_000 });
  }
}

/**
 * What a throughput run measured: the figure, and what each task cost in CPU
 * on each side (this machine is shared, so the CPU split explains a figure
 * better than the figure alone).
 *
 * @example
 * ```ts
 * const run: Throughput = { perSecond: 7_000, clientCpuUsPerTask: 140, redisCpuUsPerTask: 85 };
 * ```
 */
export interface Throughput {
  perSecond: number;
  /** CPU of the process(es) running the queue's code, per task (µs). */
  clientCpuUsPerTask: number;
  /** CPU of the Redis server per task (µs; NaN when it is not ours). */
  redisCpuUsPerTask: number;
}

/**
 * `redis_tasks_per_s`: one in-process runtime on Redis enqueues and runs
 * `count` `noop` tasks; tasks/s from the first enqueue to the last success.
 *
 * @example
 * ```ts
 * const { perSecond } = await unTasksPerSecond("redis://127.0.0.1:6379", null, 20_000, 16);
 * ```
 */
export async function unTasksPerSecond(
  url: string,
  redisPid: number | null,
  count: number,
  concurrency: number,
): Promise<Throughput> {
  const prefix = uniquePrefix("un-tasks");
  const { runtime, cleanup } = await benchRuntime({
    redis: { url, prefix },
    workers: { concurrency },
  });
  try {
    let succeeded = 0;
    let failed = 0;
    // This process's outcomes only, as BullMQ's side counts its Worker's own
    // `completed` events: no subscription to the channels, so Redis does not
    // send our own events back to us.
    runtime.bus.subscribe(
      "task.succeeded",
      () => {
        succeeded++;
      },
      "bench",
      { remote: false },
    );
    runtime.bus.subscribe(
      "task.failed",
      () => {
        failed++;
      },
      "bench",
      { remote: false },
    );
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const redisBefore = redisPid === null ? NaN : await processCpuSeconds(redisPid);
    await enqueueAll(runtime, count, { type: "noop", payload: {} });
    await until(() => succeeded + failed >= count, 300_000, `${count} noop tasks on Redis`);
    const elapsed = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const redisCpu = redisPid === null ? NaN : (await processCpuSeconds(redisPid)) - redisBefore;
    if (failed > 0) throw new Error(`${failed} of ${count} noop tasks failed`);
    return {
      perSecond: Math.round(count / (elapsed / 1_000)),
      clientCpuUsPerTask: Math.round((cpu.user + cpu.system) / count),
      redisCpuUsPerTask: Math.round((redisCpu * 1e6) / count),
    };
  } finally {
    await cleanup();
    await dropPrefix(url, prefix);
  }
}

/**
 * One point of `redis_scaleout`: `tasks` `sleep` tasks of `sleepMs` are
 * enqueued first (through an in-process `api`-role runtime), then `processes`
 * `un start --role worker` processes run them. Throughput is measured from the
 * moment the last worker process is up (its API printed its URL, after its pool
 * started) to the last success, counting only the tasks finished in that
 * window, so process start-up (the same for any N) is not in the figure.
 *
 * @example
 * ```ts
 * const { perSecond } = await unScaleoutPoint("redis://127.0.0.1:6379", null, 2, 8_000, 16, 20);
 * ```
 */
export async function unScaleoutPoint(
  url: string,
  redisPid: number | null,
  processes: number,
  tasks: number,
  concurrency: number,
  sleepMs: number,
): Promise<Throughput> {
  const prefix = uniquePrefix(`un-scaleout-${processes}`);
  const api = await benchRuntime({ redis: { url, prefix } }, "api");
  try {
    await enqueueAll(api.runtime, tasks, { type: "sleep", payload: { ms: sleepMs } });
  } finally {
    await api.cleanup();
  }
  const store = await RedisStore.open({ url, prefix });
  try {
    await using workers = await startWorkers(processes, {
      redis: { url, prefix },
      workers: { concurrency },
    }, { denoFlags: WORKER_FLAGS });
    const started = performance.now();
    const cpuBefore = await totalCpuSeconds(workers.pids);
    const redisBefore = redisPid === null ? NaN : await processCpuSeconds(redisPid);
    const before = await finishedTasks(store);
    let done = before;
    while (done.all < tasks) {
      if (performance.now() - started > 300_000) {
        throw new Error(
          `${tasks - done.all} of ${tasks} sleep tasks not finished after 300 s on ${processes} ` +
            `workers; their stderr:\n${workers.stderr()}`,
        );
      }
      // A poll every 25 ms: under 1 % of a run that lasts seconds.
      await new Promise((r) => setTimeout(r, 25));
      done = await finishedTasks(store);
    }
    const elapsed = performance.now() - started;
    const cpu = (await totalCpuSeconds(workers.pids)) - cpuBefore;
    const redisCpu = redisPid === null ? NaN : (await processCpuSeconds(redisPid)) - redisBefore;
    if (done.failed > 0) throw new Error(`${done.failed} sleep tasks failed`);
    const ran = tasks - before.all;
    return {
      perSecond: Math.round(ran / (elapsed / 1_000)),
      clientCpuUsPerTask: Math.round((cpu * 1e6) / ran),
      redisCpuUsPerTask: Math.round((redisCpu * 1e6) / ran),
    };
  } finally {
    await store.close();
    await dropPrefix(url, prefix);
  }
}

async function finishedTasks(store: RedisStore): Promise<{ all: number; failed: number }> {
  const counts = (await store.queueCounts()).default;
  const failed = (counts?.failed ?? 0) + (counts?.dead ?? 0);
  return { all: (counts?.succeeded ?? 0) + failed, failed };
}
