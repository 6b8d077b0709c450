/**
 * `workers.resources`, black-box: a process never runs more of a resource
 * than it has (20 tasks needing `gpu: 1` on a process with one gpu and four
 * workers run one at a time), tasks without resources run beside them, and
 * a cluster of two such processes runs at most two at once. A task asking
 * for more than any worker has is a 400 on the embedded store; on Redis it
 * waits queued, says which resource is missing, and does not hold up the
 * tasks behind it. `GET /un/workers` and `un workers` show capacity and use.
 *
 * The Redis cases need `redis-server` (a private one per test).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { PoolInfo } from "../lib/protocol/messages.ts";
import type { ExplainedTask } from "../lib/tasks/priority.ts";
import type { Task } from "../lib/tasks/task.ts";
import { assertError, createTask, taskState } from "./helpers/api.ts";
import { runCli } from "./helpers/cli.ts";
import { api } from "./helpers/http.ts";
import { redisServerForTests, startRedis } from "./helpers/redis-server.ts";
import { REPO, startMany, startUn, type UnProcess } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const { ignore, suffix } = redisServerForTests("resources");
const HANDLERS = join(REPO, "tests/fixtures/handlers.ts");

/** Creates `count` tasks in one batch. */
async function createMany(
  un: UnProcess,
  count: number,
  request: Record<string, unknown>,
): Promise<Task[]> {
  const tasks = Array.from({ length: count }, () => request);
  const res = await api<{ tasks: Task[] }>(un.url, "POST", "/un/tasks/create", { tasks });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.tasks;
}

/** Waits until every task succeeded; returns them as stored. */
function allSucceeded(un: UnProcess, ids: string[], timeoutMs: number): Promise<Task[]> {
  return eventually(async () => {
    const tasks = await Promise.all(ids.map((id) => taskState(un, id)));
    return tasks.every((t) => t.state === "succeeded") ? tasks : undefined;
  }, { timeoutMs: timeoutMs, intervalMs: 100, message: `${ids.length} tasks to succeed` });
}

/** What the `exclusive` handlers saw: the most running at once per process. */
function mostTogether(tasks: Task[]): Map<number, number> {
  const most = new Map<number, number>();
  for (const task of tasks) {
    const { together, pid } = task.result as { together: number; pid: number };
    most.set(pid, Math.max(most.get(pid) ?? 0, together));
  }
  return most;
}

/** Samples `GET /un/workers` until `done` resolves; returns every gpu use seen. */
async function sampleGpuUse(un: UnProcess, done: Promise<unknown>): Promise<number[]> {
  const seen: number[] = [];
  let finished = false;
  done.finally(() => (finished = true)).catch(() => {});
  while (!finished) {
    const res = await api<PoolInfo>(un.url, "GET", "/un/workers");
    assert.equal(res.status, 200);
    assert.equal(res.body.resources.gpu.capacity, 1);
    seen.push(res.body.resources.gpu.inUse);
    await new Promise((r) => setTimeout(r, 20));
  }
  return seen;
}

const GPU_TASK = { type: "exclusive", payload: { ms: 100 }, resources: { gpu: 1 } };

Deno.test("resources: one gpu, four workers: gpu tasks run one at a time, others beside them", async () => {
  await using un = await startUn({
    config: { handlers: HANDLERS, workers: { concurrency: 4, resources: { gpu: 1 } } },
  });
  const gpuTasks = await createMany(un, 20, GPU_TASK);
  // A task without resources starts while a gpu task runs.
  await eventually(async () => {
    const info = await api<PoolInfo>(un.url, "GET", "/un/workers");
    return info.body.resources.gpu.inUse === 1;
  }, { timeoutMs: 5_000, message: "a gpu task to run" });
  const plain = await createTask(un, { type: "sleep", payload: { ms: 50 } });
  const finishing = allSucceeded(un, gpuTasks.map((t) => t.id), 30_000);
  const uses = await sampleGpuUse(un, finishing);
  const done = await finishing;

  assert.deepEqual([...mostTogether(done).values()], [1], "at most one gpu task at a time");
  assert.ok(uses.every((n) => n <= 1), `gpu in use: ${uses.join(",")}`);
  assert.ok(uses.includes(1), "GET /un/workers showed the gpu in use");
  const plainDone = await allSucceeded(un, [plain.id], 5_000);
  const alongside = done.some((t) =>
    t.startedAt! <= plainDone[0].startedAt! && plainDone[0].startedAt! < t.finishedAt!
  );
  assert.ok(alongside, "the task without resources started while a gpu task ran");

  const idle = await api<PoolInfo>(un.url, "GET", "/un/workers");
  assert.deepEqual(idle.body.resources, { gpu: { capacity: 1, inUse: 0 } });
  const cli = await runCli(["workers"], { UN_URL: un.url });
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /resources in use: gpu 0\/1/);
});

Deno.test("resources: on the embedded store a task asking for more than the capacity is 400", async () => {
  await using un = await startUn({
    config: { workers: { concurrency: 2, resources: { gpu: 1 } } },
  });
  const res = await api(un.url, "POST", "/un/tasks/create", {
    type: "noop",
    resources: { gpu: 5 },
  });
  const body = assertError(res, 400, "resources.gpu");
  assert.match(body.error.message, /gpu: 5/);
  assert.match(body.error.message, /gpu: 1/);
  assert.equal(body.error.details.capacity, 1);
  assert.equal(body.error.details.value, 5);
  const unknown = await api(un.url, "POST", "/un/tasks/create", {
    tasks: [{ type: "noop" }, { type: "noop", resources: { tpu: 1 } }],
  });
  assertError(unknown, 400, "tasks[1].resources.tpu");
  // Within the capacity it is accepted and runs.
  const fits = await createTask(un, { type: "noop", resources: { gpu: 1 } });
  await allSucceeded(un, [fits.id], 5_000);
});

Deno.test({
  name: `resources: two processes with one gpu each run at most two gpu tasks at once${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis();
    const config = {
      handlers: HANDLERS,
      redis: { url: redis.url },
      workers: { concurrency: 4, resources: { gpu: 1 } },
    };
    await using group = await startMany([{ config }, { config }]);
    const [first, second] = group.procs;
    const tasks = await createMany(first, 20, { ...GPU_TASK, payload: { ms: 150 } });
    const done = await allSucceeded(second, tasks.map((t) => t.id), 30_000);
    // Each process runs one at a time, and both took part.
    assert.deepEqual([...mostTogether(done).values()], [1, 1], "one at a time in each process");
  },
});

Deno.test({
  name:
    `resources: on Redis a task no worker can fit waits queued and says what is missing${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using group = await startMany([
      { config: { redis: { url: redis.url } }, args: ["--role", "api"] },
      {
        config: { redis: { url: redis.url }, workers: { concurrency: 2, resources: { gpu: 1 } } },
        args: ["--role", "worker"],
      },
    ]);
    const [front] = group.procs;
    const big = await createTask(front, { type: "noop", resources: { gpu: 5 }, priority: 9 });
    // Behind it, a task that fits is not held up.
    const small = await createTask(front, { type: "noop", resources: { gpu: 1 } });
    await allSucceeded(front, [small.id], 10_000);
    const shown = await eventually(async () => {
      const res = await api<{ task: ExplainedTask }>(front.url, "GET", `/un/tasks/${big.id}`);
      return res.body.task.explanation.resources ? res.body.task : undefined;
    }, { timeoutMs: 10_000, message: "the explanation to name the missing resource" });
    assert.equal(shown.state, "queued");
    assert.deepEqual(shown.explanation.resources?.missing, [
      { resource: "gpu", needs: 5, most: 1 },
    ]);
    assert.match(
      shown.explanation.notes?.[0] ?? "",
      /needs gpu: 5; the most any live process has is gpu: 1/,
    );
    assert.equal((await taskState(front, big.id)).state, "queued");
  },
});
