/**
 * Finding tasks and acting on them in bulk over HTTP against a real
 * `un start`: each filter of `GET /un/tasks`, the cursor, bad input (400
 * naming the field), `POST /un/tasks/bulk` (dry run, each action), and queue
 * drain and obliterate (409 while tasks run, unless `force`).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Task } from "../lib/tasks/task.ts";
import { assertError, createTask, taskState } from "./helpers/api.ts";
import { eventually } from "./helpers/eventually.ts";
import { api } from "./helpers/http.ts";
import { REPO, startUn } from "./helpers/un-process.ts";

const HANDLERS = join(REPO, "tests/fixtures/bulk-handlers.ts");

type List = { tasks: Task[]; nextCursor?: string };
type Report = { matched: number; changed: number };

Deno.test("finding tasks and bulk actions over HTTP", async (t) => {
  await using un = await startUn({
    config: { handlers: HANDLERS, workers: { concurrency: 2 } },
  });
  const list = async (query: string) => {
    const res = await api<List>(un.url, "GET", `/un/tasks?${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };
  const ids = (body: List) => body.tasks.map((task) => task.id);

  await t.step("filters: key, correlationId, createdAfter/Before; cursor pages", async () => {
    const a = await createTask(un, {
      type: "busy",
      queue: "f",
      key: "k-a",
      correlationId: "c-1",
      runAt: Date.now() + 60_000,
      payload: { ms: 1 },
    });
    const b = await createTask(un, {
      type: "busy",
      queue: "f",
      correlationId: "c-1",
      runAt: Date.now() + 60_000,
      payload: { ms: 1 },
    });
    const c = await createTask(un, {
      type: "busy",
      queue: "f",
      runAt: Date.now() + 60_000,
      payload: { ms: 1 },
    });
    assert.deepEqual(ids(await list("key=k-a")), [a.id]);
    assert.deepEqual(ids(await list("correlationId=c-1")), [b.id, a.id]);
    assert.ok(ids(await list(`queue=f&createdAfter=${c.createdAt}`)).includes(c.id));
    assert.deepEqual(
      ids(await list(`queue=f&createdBefore=${new Date(a.createdAt).toISOString()}`)),
      [],
    );
    const first = await list("queue=f&limit=2");
    assert.deepEqual(ids(first), [c.id, b.id]);
    assert.ok(first.nextCursor);
    const second = await list(`queue=f&limit=2&cursor=${first.nextCursor}`);
    assert.deepEqual(ids(second), [a.id]);
    assert.equal(second.nextCursor, undefined);
  });

  await t.step("bad cursor or filter: 400 naming the field and the value", async () => {
    const bad = assertError(await api(un.url, "GET", "/un/tasks?cursor=nope!"), 400, "cursor");
    assert.equal(bad.error.details.value, "nope!");
    assert.match(bad.error.message, /nextCursor/);
    assertError(await api(un.url, "GET", "/un/tasks?createdAfter=yesterday"), 400, "createdAfter");
    assertError(await api(un.url, "GET", "/un/tasks?state=done"), 400, "state");
    assertError(await api(un.url, "GET", "/un/tasks?nope=1"), 400);
    const bulk = (body: unknown) => api(un.url, "POST", "/un/tasks/bulk", body);
    assertError(await bulk({ action: "explode", filter: { queue: "f" } }), 400, "action");
    assertError(await bulk({ action: "cancel", filter: {} }), 400, "filter");
    assertError(await bulk({ action: "reprioritize", filter: { queue: "f" } }), 400, "priority");
    assertError(await bulk({ action: "cancel", filter: { state: "gone" } }), 400, "filter.state");
  });

  await t.step("bulk: dry run counts only; reprioritize, cancel, retry, delete", async () => {
    const bulk = async (body: unknown) => {
      const res = await api<Report>(un.url, "POST", "/un/tasks/bulk", body);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };
    assert.deepEqual(await bulk({ action: "cancel", filter: { queue: "f" }, dryRun: true }), {
      matched: 3,
      changed: 0,
    });
    assert.equal((await list("queue=f&state=scheduled")).tasks.length, 3);
    assert.deepEqual(
      await bulk({
        action: "reprioritize",
        priority: 9,
        filter: { queue: "f", correlationId: "c-1" },
      }),
      { matched: 2, changed: 2 },
    );
    assert.deepEqual((await list("queue=f&correlationId=c-1")).tasks.map((t) => t.priority), [
      9,
      9,
    ]);
    assert.deepEqual(await bulk({ action: "cancel", filter: { queue: "f" }, limit: 2 }), {
      matched: 2,
      changed: 2,
    });
    assert.equal((await list("queue=f&state=cancelled")).tasks.length, 2);
    assert.deepEqual(await bulk({ action: "retry", filter: { queue: "f", state: "cancelled" } }), {
      matched: 2,
      changed: 2,
    });
    // The retried tasks run (a millisecond each); delete leaves running ones alone.
    await eventually(
      async () => (await list("queue=f&state=succeeded")).tasks.length === 2 || null,
      {
        message: "the retried tasks to finish",
      },
    );
    assert.deepEqual(await bulk({ action: "delete", filter: { queue: "f" } }), {
      matched: 3,
      changed: 3,
    });
    assert.deepEqual(await list("queue=f"), { tasks: [] });
  });

  await t.step("bulk cancel tells the worker running a task", async () => {
    const running = await createTask(un, { type: "busy", queue: "slow", payload: { ms: 30_000 } });
    await eventually(async () => (await taskState(un, running.id)).state === "running" || null, {
      message: "running",
    });
    const res = await api<Report>(un.url, "POST", "/un/tasks/bulk", {
      action: "cancel",
      filter: { queue: "slow" },
    });
    assert.deepEqual(res.body, { matched: 1, changed: 1 });
    const workers = await eventually(async () => {
      const { body } = await api<{ workers: { taskId: string | null }[] }>(
        un.url,
        "GET",
        "/un/workers",
      );
      return body.workers.every((w) => w.taskId !== running.id) ? body : null;
    }, { message: "the worker let go of the cancelled task" });
    assert.ok(workers);
    assert.equal((await taskState(un, running.id)).state, "cancelled");
  });

  await t.step("drain removes what waits to run; obliterate refuses while tasks run", async () => {
    const later = { type: "busy", payload: { ms: 1 }, runAt: Date.now() + 60_000 };
    await createTask(un, { ...later, queue: "q" });
    await createTask(un, { ...later, queue: "q" });
    const drained = await api<Report>(un.url, "POST", "/un/queues/q/drain");
    assert.deepEqual(drained.body, { matched: 2, changed: 2 });
    assert.deepEqual(await list("queue=q"), { tasks: [] });

    const long = await createTask(un, { type: "busy", queue: "o", payload: { ms: 30_000 } });
    await createTask(un, { ...later, queue: "o" });
    await eventually(async () => (await taskState(un, long.id)).state === "running" || null, {
      message: "running",
    });
    const refused = assertError(await api(un.url, "POST", "/un/queues/o/obliterate"), 409);
    assert.equal(refused.error.details.running, 1);
    const forced = await api<Report>(un.url, "POST", "/un/queues/o/obliterate", { force: true });
    assert.equal(forced.status, 200, JSON.stringify(forced.body));
    assert.ok(forced.body.matched >= 2, JSON.stringify(forced.body));
    assert.equal(forced.body.changed, forced.body.matched);
    await eventually(async () => (await list("queue=o")).tasks.length === 0 || null, {
      message: "queue o empty",
    });
  });
});
