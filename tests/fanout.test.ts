/**
 * Fan-out and batches against real `un start` processes, on the embedded
 * store and on Redis with two processes: a handler makes 100 children, waits
 * for them and gets their 100 results, its progress climbing as they finish;
 * `GET /un/tasks/:id` counts its children; `batch.completed` comes once. A
 * batch created over the API is counted by `GET /un/batches/:id` and
 * completes once; its id cannot be used twice. A bad child request fails
 * the handler with the API's validation message.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import type { BatchView } from "../lib/store/types.ts";
import type { Task } from "../lib/tasks/task.ts";
import { assertError } from "./helpers/api.ts";
import { eventually } from "./helpers/eventually.ts";
import { history } from "./helpers/events.ts";
import { api } from "./helpers/http.ts";
import { redisServerForTests, startRedis } from "./helpers/redis-server.ts";
import { REPO, startMany, startUn, type UnProcess } from "./helpers/un-process.ts";
import { SqliteStore } from "../lib/store/sqlite/store.ts";
import { newTask } from "./store/conformance/helpers.ts";

const HANDLERS = join(REPO, "tests/fixtures/fanout-handlers.ts");
const { ignore, suffix } = redisServerForTests("fan-out");

type ChildCounts = Record<"total" | "queued" | "running" | "succeeded" | "failed", number>;
type TaskAnswer = { task: Task; children?: ChildCounts };

async function getTask(un: UnProcess, id: string): Promise<TaskAnswer> {
  const res = await api<TaskAnswer>(un.url, "GET", `/un/tasks/${id}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** Waits for a task to end; returns it. */
function ended(un: UnProcess, id: string, timeoutMs = 60_000): Promise<Task> {
  return eventually(async () => {
    const { task } = await getTask(un, id);
    return ["succeeded", "failed", "dead"].includes(task.state) ? task : null;
  }, { timeoutMs, intervalMs: 50, message: `task ${id} to end` });
}

/** `batch.completed` events of one batch, once the log has had time for a second. */
async function completions(un: UnProcess, batchId: string): Promise<CloudEvent[]> {
  await eventually(async () => (await history(un, "batch.completed")).length > 0 || null, {
    timeoutMs: 10_000,
    message: "batch.completed",
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  return (await history(un, "batch.completed")).filter((e) => e.subject === batchId);
}

function startAll(count: number, config: Record<string, unknown>) {
  return startMany(Array.from({ length: count }, () => ({
    config: { handlers: HANDLERS, workers: { concurrency: 4 }, ...config },
    readyTimeoutMs: 60_000,
  })));
}

async function fanOut(count: number, config: Record<string, unknown>): Promise<void> {
  await using group = await startAll(count, config);
  const [un] = group.procs;
  const created = await api<TaskAnswer>(un.url, "POST", "/un/tasks/create", {
    type: "fanout",
    payload: { n: 100, ms: 15 },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const parent = created.body.task;

  // While it waits, GET counts its children.
  const counted = await eventually(async () => (await getTask(un, parent.id)).children ?? null, {
    timeoutMs: 30_000,
    intervalMs: 20,
    message: "the parent's children counted",
  });
  assert.equal(counted.total, 100);

  const done = await ended(un, parent.id);
  assert.equal(done.state, "succeeded", JSON.stringify(done.error));
  // 100 results: the doubles of 0..99.
  assert.deepEqual(done.result, { made: 100, states: ["succeeded"], sum: 99 * 100 });
  const { children } = await getTask(un, parent.id);
  assert.deepEqual(children, {
    total: 100,
    queued: 0,
    running: 0,
    succeeded: 100,
    failed: 0,
    progress: 1,
  });

  // Its progress climbed as the children finished.
  const climbed = (await history(un, "task.progress"))
    .filter((e) => e.subject === parent.id)
    .map((e) => (e.data as { progress: number }).progress);
  assert.ok(new Set(climbed).size >= 3, `distinct progress values: ${climbed.join(", ")}`);
  assert.deepEqual(climbed, [...climbed].sort((a, b) => a - b), "progress only climbs");
  assert.equal(climbed.at(-1), 1);
  const child = (await api<{ tasks: Task[] }>(un.url, "GET", "/un/tasks?queue=children&limit=1"))
    .body.tasks[0];
  assert.equal(child.parentId, parent.id);
  assert.equal(child.batchId, parent.id);
  assert.equal(child.correlationId, parent.id, "children carry the parent's correlation");

  const events = await completions(un, parent.id);
  assert.equal(events.length, 1, JSON.stringify(events));
  assert.deepEqual(events[0].data, {
    id: parent.id,
    total: 100,
    counts: { succeeded: 100 },
    progress: 1,
    parentId: parent.id,
  });
}

async function apiBatch(count: number, config: Record<string, unknown>): Promise<void> {
  await using group = await startAll(count, config);
  const [un] = group.procs;
  const tasks = Array.from({ length: 40 }, (_, i) => ({ type: "child", payload: { i, ms: 5 } }));
  const created = await api<{ tasks: Task[]; batch: { id: string } }>(
    un.url,
    "POST",
    "/un/tasks/create",
    { tasks, batch: { id: "nightly-1" } },
  );
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual(created.body.batch, { id: "nightly-1" });
  assert.equal(created.body.tasks[0].batchId, "nightly-1");
  assertError(
    await api(un.url, "POST", "/un/tasks/create", { tasks, batch: { id: "nightly-1" } }),
    409,
  );
  const batch = await eventually(async () => {
    const res = await api<{ batch: BatchView }>(un.url, "GET", "/un/batches/nightly-1");
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.batch.completedAt ? res.body.batch : null;
  }, { timeoutMs: 30_000, message: "the batch to complete" });
  assert.equal(batch.total, 40);
  assert.deepEqual(batch.counts, { succeeded: 40 });
  assert.equal(batch.done, true);
  assert.equal(batch.progress, 1);
  assert.equal((await completions(un, "nightly-1")).length, 1);

  // A batch without an id gets one; an unknown batch is a 404.
  const fresh = await api<{ batch: { id: string } }>(un.url, "POST", "/un/tasks/create", {
    tasks: [{ type: "child", payload: { i: 1, ms: 1 } }],
    batch: {},
  });
  assert.match(fresh.body.batch.id, /^[0-9A-Z]{26}$/);
  assertError(await api(un.url, "GET", "/un/batches/no-such-batch"), 404);
  assertError(
    await api(un.url, "POST", "/un/tasks/create", { tasks, batch: { id: "bad id!" } }),
    400,
  );
}

Deno.test("fan-out: a handler makes 100 children, waits, gets 100 results (embedded)", () =>
  fanOut(1, {}));

Deno.test({
  name: `fan-out: 100 children across two processes on Redis, one batch.completed${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis();
    await fanOut(2, { redis: { url: redis.url } });
  },
});

Deno.test("batches: a batch over the API is counted and completes once (embedded)", () =>
  apiBatch(1, {}));

Deno.test({
  name: `batches: a batch over the API completes once with two processes on Redis${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis();
    await apiBatch(2, { redis: { url: redis.url } });
  },
});

Deno.test("fan-out: a bad child request fails the handler and creates nothing", async () => {
  await using group = await startAll(1, {});
  const [un] = group.procs;
  const created = await api<TaskAnswer>(un.url, "POST", "/un/tasks/create", {
    type: "bad-fanout",
    maxAttempts: 1,
  });
  const task = await ended(un, created.body.task.id);
  assert.equal(task.state, "dead");
  assert.match(task.error?.message ?? "", /priority/);
  const children = await api<{ tasks: Task[] }>(un.url, "GET", "/un/tasks?type=child");
  assert.deepEqual(children.body.tasks, []);
});

Deno.test("fan-out: waiting parents lend their slots, so one worker runs three parents and their children", async () => {
  await using group = await startAll(1, { workers: { concurrency: 1 } });
  const [un] = group.procs;
  const parents: Task[] = [];
  for (let i = 0; i < 3; i++) {
    const created = await api<TaskAnswer>(un.url, "POST", "/un/tasks/create", {
      type: "fanout",
      payload: { n: 5, ms: 10 },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    parents.push(created.body.task);
  }
  for (const parent of parents) {
    const done = await ended(un, parent.id, 30_000);
    assert.equal(done.state, "succeeded", JSON.stringify(done.error));
    assert.deepEqual(done.result, { made: 5, states: ["succeeded"], sum: 20 });
  }
  // The stand-ins retire once their parents are done: one worker again.
  await eventually(async () => {
    const { body } = await api<{ concurrency: number; workers: unknown[] }>(
      un.url,
      "GET",
      "/un/workers",
    );
    return body.concurrency === 1 && body.workers.length === 1;
  }, { timeoutMs: 5_000, message: "the pool back to one worker" });
});

Deno.test("batches: one whose last task ended in a process that stopped before announcing it is announced by the clean-up", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un_batch_sweep_" });
  try {
    // As a process leaves it when it stops between a task's end and the
    // batch's settle: the task ended, the batch not announced.
    const store = SqliteStore.open(join(dir, ".un"));
    const batchId = "left-open";
    const [{ task }] = await store.enqueueMany([newTask({ batchId })], Date.now(), {
      newBatch: true,
    });
    await store.cancel(task.id, Date.now());
    await store.close();

    await using un = await startUn({ cwd: dir, config: { scheduler: { cleanupMs: 200 } } });
    const events = await completions(un, batchId);
    assert.equal(events.length, 1, JSON.stringify(events));
    const { body } = await api<{ batch: BatchView }>(un.url, "GET", `/un/batches/${batchId}`);
    assert.equal(typeof body.batch.completedAt, "number");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
