/**
 * The HTTP control plane against a real `un start`: every endpoint's happy
 * path and its main errors, as a client sees them (status, JSON shape, what
 * changed afterwards). The events endpoints are in api-events.test.ts,
 * stopping over HTTP in shutdown.test.ts, the development endpoints
 * (inspector, crash hook) in inspect-api.test.ts.
 */

import assert from "node:assert/strict";
import type { Task } from "../lib/tasks/task.ts";
import { assertError, createTask, type TaskJson, taskState } from "./helpers/api.ts";
import { api } from "./helpers/http.ts";
import { startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

Deno.test("control plane: health, tasks, queues, workers, sources", async (t) => {
  await using un = await startUn({
    config: {
      workers: { concurrency: 2 },
      sources: [
        {
          id: "releases",
          kind: "github",
          repo: "octo/app",
          secret: "webhook-secret-1",
          interval: "1h",
        },
      ],
    },
  });

  await t.step(
    "GET /health is ok with the store and actors; /health/queue and /metrics answer",
    async () => {
      const health = await api<{ status: string; store: { ok: boolean }; actors: unknown[] }>(
        un.url,
        "GET",
        "/health",
      );
      assert.equal(health.status, 200);
      assert.equal(health.body.status, "ok");
      assert.equal(health.body.store.ok, true);
      assert.ok(health.body.actors.length > 0);

      await createTask(un, { type: "noop", queue: "health-q" });
      const queue = await eventually(async () => {
        const res = await api<{ queues: Record<string, Record<string, number>> }>(
          un.url,
          "GET",
          "/health/queue",
        );
        return res.body.queues["health-q"];
      }, { timeoutMs: 5_000, message: "health-q in /health/queue" });
      assert.deepEqual(Object.keys(queue).sort(), [
        "dead",
        "failed",
        "queued",
        "running",
        "scheduled",
      ]);

      const res = await fetch(`${un.url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      assert.match(await res.text(), /^un_up 1$/m);
    },
  );

  await t.step(
    "POST /un/tasks/create runs the task; GET shows it; a live key deduplicates with 200",
    async () => {
      const task = await createTask(un, {
        type: "noop",
        payload: { hello: "world" },
        priority: 7,
        queue: "api",
      });
      assert.equal(task.type, "noop");
      assert.equal(task.priority, 7);
      assert.equal(task.queue, "api");
      const done = await eventually(async () => {
        const t = await taskState(un, task.id);
        return t.state === "succeeded" ? t : undefined;
      }, { timeoutMs: 10_000, message: "noop task to succeed" });
      assert.deepEqual(done.result, { hello: "world" });

      const first = await createTask(un, {
        type: "sleep",
        payload: { ms: 60_000 },
        key: "dedupe-1",
        delayMs: 60_000,
      });
      const again = await api<TaskJson>(un.url, "POST", "/un/tasks/create", {
        type: "sleep",
        payload: { ms: 60_000 },
        key: "dedupe-1",
      });
      assert.equal(again.status, 200);
      assert.equal(again.body.deduplicated, true);
      assert.equal(again.body.task.id, first.id);

      const listed = await api<{ tasks: Task[] }>(
        un.url,
        "GET",
        "/un/tasks?state=scheduled&type=sleep",
      );
      assert.equal(listed.status, 200);
      assert.ok(listed.body.tasks.some((t) => t.id === first.id));
      assert.ok(listed.body.tasks.every((t) => t.state === "scheduled" && t.type === "sleep"));
    },
  );

  await t.step("a batch is created at once; runAt takes ISO times", async () => {
    const res = await api<{ tasks: Task[] }>(un.url, "POST", "/un/tasks/create", {
      tasks: [
        { type: "noop", key: "batch-a" },
        { type: "noop", dependsOn: ["batch-a"], runAt: "2099-01-01T00:00:00Z" },
      ],
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.tasks.length, 2);
    assert.equal(res.body.tasks[1].runAt, Date.parse("2099-01-01T00:00:00Z"));
  });

  await t.step(
    "task errors: unknown id 404, bad state 400, unknown dependency 400, cycle 400",
    async () => {
      assertError(await api(un.url, "GET", "/un/tasks/01ZZZZZZZZZZZZZZZZZZZZZZZZ"), 404);
      assertError(await api(un.url, "GET", "/un/tasks?state=sleeping"), 400, "state");
      assertError(
        await api(un.url, "POST", "/un/tasks/create", {
          type: "noop",
          dependsOn: ["no-such-task"],
        }),
        400,
      );
      const cycle = await api(un.url, "POST", "/un/tasks/create", {
        tasks: [
          { type: "noop", key: "cyc-a", dependsOn: ["cyc-b"] },
          { type: "noop", key: "cyc-b", dependsOn: ["cyc-a"] },
        ],
      });
      assertError(cycle, 400);
      assertError(
        await api(un.url, "POST", "/un/tasks/create", { type: "noop", priority: 10 }),
        400,
        "priority",
      );
      assertError(
        await api(un.url, "POST", "/un/tasks/create", { type: "noop", delayMs: "5s" }),
        400,
        "delayMs",
      );
    },
  );

  await t.step("priority, cancel and retry change a task and answer with it", async () => {
    const task = await createTask(un, { type: "noop", delayMs: 600_000 });
    const raised = await api<TaskJson>(un.url, "POST", `/un/tasks/${task.id}/priority`, {
      priority: 9,
    });
    assert.equal(raised.status, 200, JSON.stringify(raised.body));
    assert.equal(raised.body.task.priority, 9);
    assertError(
      await api(un.url, "POST", `/un/tasks/${task.id}/priority`, { priority: "high" }),
      400,
      "priority",
    );

    const cancelled = await api<TaskJson>(un.url, "DELETE", `/un/tasks/${task.id}`);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.task.state, "cancelled");
    assertError(await api(un.url, "DELETE", `/un/tasks/${task.id}`), 409);

    const retried = await api<TaskJson>(un.url, "POST", `/un/tasks/${task.id}/retry`);
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.notEqual(retried.body.task.state, "cancelled");
    assertError(await api(un.url, "POST", "/un/tasks/01ZZZZZZZZZZZZZZZZZZZZZZZZ/retry"), 404);
  });

  await t.step("cancelling a running task stops it", async () => {
    const task = await createTask(un, { type: "sleep", payload: { ms: 60_000 } });
    await eventually(async () => (await taskState(un, task.id)).state === "running", {
      timeoutMs: 10_000,
      message: "sleep to start",
    });
    const res = await api<TaskJson>(un.url, "DELETE", `/un/tasks/${task.id}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.task.state, "cancelled");
    await eventually(async () => {
      const pool = await api<{ workers: Array<{ taskId: string | null }> }>(
        un.url,
        "GET",
        "/un/workers",
      );
      return pool.body.workers.every((w) => w.taskId !== task.id);
    }, { timeoutMs: 10_000, message: "the worker to let go of the cancelled task" });
  });

  await t.step("GET /un/queues counts tasks by queue and state", async () => {
    const res = await api<{ queues: Record<string, Record<string, number>> }>(
      un.url,
      "GET",
      "/un/queues",
    );
    assert.equal(res.status, 200);
    assert.ok(res.body.queues.api.succeeded >= 1, JSON.stringify(res.body));
  });

  await t.step("GET /un/workers shows the pool; POST /un/workers/scale changes it", async () => {
    const pool = await api<{ concurrency: number; workers: Array<{ id: string; state: string }> }>(
      un.url,
      "GET",
      "/un/workers",
    );
    assert.equal(pool.status, 200);
    assert.equal(pool.body.concurrency, 2);
    assert.ok(
      pool.body.workers.every((w) => typeof w.id === "string" && typeof w.state === "string"),
    );

    const scaled = await api<{ concurrency: number }>(un.url, "POST", "/un/workers/scale", {
      concurrency: 3,
    });
    assert.deepEqual(scaled, { status: 200, body: { concurrency: 3 } });
    await eventually(async () => {
      const res = await api<{ workers: unknown[] }>(un.url, "GET", "/un/workers");
      return res.body.workers.length === 3;
    }, { timeoutMs: 5_000, message: "three workers" });
    assertError(
      await api(un.url, "POST", "/un/workers/scale", { concurrency: 0 }),
      400,
      "concurrency",
    );
    assertError(
      await api(un.url, "POST", "/un/workers/scale", { concurrency: 257 }),
      400,
      "concurrency",
    );
  });

  await t.step("GET /un/sources lists configured sources with secrets redacted", async () => {
    const res = await api<
      { sources: Array<{ id: string; kind: string; spec: Record<string, unknown> }> }
    >(
      un.url,
      "GET",
      "/un/sources",
    );
    assert.equal(res.status, 200);
    const source = res.body.sources.find((s) => s.id === "releases");
    assert.ok(source, JSON.stringify(res.body));
    assert.equal(source.kind, "github");
    assert.equal(source.spec.repo, "octo/app");
    assert.equal(source.spec.secret, "[redacted]");
    assert.ok(!JSON.stringify(res.body).includes("webhook-secret-1"));
  });

  await t.step(
    "unknown routes are JSON 404; a wrong method is 405 naming the allowed ones",
    async () => {
      assertError(await api(un.url, "GET", "/un/nope"), 404);
      const wrong = assertError(
        await api(un.url, "PUT", "/un/tasks/create", { type: "noop" }),
        405,
      );
      assert.deepEqual(wrong.error.details.allowed, ["POST"]);
    },
  );

  await t.step("GET /un/inspect serves a self-contained page", async () => {
    const res = await fetch(`${un.url}/un/inspect`);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /un inspector/);
    assert.doesNotMatch(html, /<(script|link)[^>]+(src|href)=/);
  });
});

Deno.test("control plane: bearer token and body limit", async (t) => {
  const token = "s3cret-token-for-tests";
  await using un = await startUn({ config: { api: { token, bodyLimitBytes: 2048 } } });
  const auth = { authorization: `Bearer ${token}` };

  await t.step(
    "without the token /un and /metrics answer 401 JSON; /health stays open",
    async () => {
      assertError(await api(un.url, "GET", "/un/tasks"), 401);
      assertError(
        await api(un.url, "GET", "/un/tasks", undefined, { authorization: "Bearer wrong-token" }),
        401,
      );
      assertError(
        await api(un.url, "GET", "/un/tasks", undefined, { authorization: "Basic abc" }),
        401,
      );
      assertError(await api(un.url, "POST", "/un/tasks/create", { type: "noop" }), 401);
      assertError(await api(un.url, "GET", "/metrics"), 401);
      assert.equal((await api(un.url, "GET", "/health")).status, 200);
      const ok = await api<{ tasks: Task[] }>(un.url, "GET", "/un/tasks", undefined, auth);
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.body.tasks, []);
    },
  );

  await t.step(
    "a body over api.bodyLimitBytes is refused with 413 JSON and creates nothing",
    async () => {
      const big = { type: "noop", payload: { blob: "x".repeat(4096) } };
      const res = assertError(await api(un.url, "POST", "/un/tasks/create", big, auth), 413);
      assert.equal(res.error.details.limit, 2048);
      const chunked = await fetch(`${un.url}/un/tasks/create`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        // A stream has no Content-Length: the limit must hold while reading too.
        body: ReadableStream.from([new TextEncoder().encode(JSON.stringify(big))]),
      });
      assertError({ status: chunked.status, body: await chunked.json() }, 413);
      const tasks = await api<{ tasks: Task[] }>(un.url, "GET", "/un/tasks", undefined, auth);
      assert.deepEqual(tasks.body.tasks, []);
    },
  );
});
