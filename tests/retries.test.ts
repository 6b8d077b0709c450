/**
 * Failure handling against a real `un start`: retries with growing backoff
 * caps then `dead` with the error kept, `timeoutMs` aborting a handler, and a
 * cancelled running task ending within 200 ms.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { api } from "./helpers/http.ts";
import { REPO, startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

type Task = Record<string, unknown> & { id: string; state: string; attempts: number };

const HANDLERS = join(REPO, "tests/fixtures/handlers.ts");

async function waitState(url: string, id: string, states: string[], ms = 10_000): Promise<Task> {
  return await eventually(async () => {
    const { body } = await api<{ task: Task }>(url, "GET", `/un/tasks/${id}`);
    return states.includes(body.task.state) ? body.task : undefined;
  }, { timeoutMs: ms, message: `task ${id} to reach ${states.join("|")}` });
}

Deno.test("a throwing handler is retried maxAttempts times with growing delays, then dead with its error", async () => {
  await using un = await startUn({
    config: {
      handlers: HANDLERS,
      workers: { backoffBaseMs: 40, backoffMaxMs: 2_000 },
      scheduler: { tickMs: 20 },
    },
  });
  const created = await api<{ task: Task }>(un.url, "POST", "/un/tasks/create", {
    type: "flaky",
    maxAttempts: 4,
  });
  assert.deepEqual(created.status, 201);
  const task = await waitState(un.url, created.body.task.id, ["dead"]);
  assert.deepEqual(task.attempts, 4);
  assert.deepEqual((task.error as { message: string }).message, "boom on attempt 4");

  const { body } = await api<{ events: Array<{ subject: string; data: Record<string, number> }> }>(
    un.url,
    "GET",
    "/un/events/history?type=task.retrying&limit=100",
  );
  const retries = body.events.filter((e) => e.subject === task.id);
  assert.deepEqual(retries.length, 3, "three retries before the fourth and last attempt");
  const caps = retries.map((e) => e.data.capMs);
  assert.deepEqual(caps, [40, 80, 160], "the backoff cap doubles with each attempt");
  for (const e of retries) {
    assert(e.data.delayMs <= e.data.capMs, "full jitter stays under the cap");
  }
  const dead = await api<{ events: Array<{ subject: string }> }>(
    un.url,
    "GET",
    "/un/events/history?type=task.dead&limit=100",
  );
  assert(dead.body.events.some((e) => e.subject === task.id), "a task.dead event is logged");
});

Deno.test("timeoutMs aborts a handler that runs too long, even one that ignores its signal", async () => {
  await using un = await startUn({ config: { handlers: HANDLERS } });
  const created = await api<{ task: Task }>(un.url, "POST", "/un/tasks/create", {
    type: "stubborn",
    payload: { ms: 5_000 },
    timeoutMs: 150,
    maxAttempts: 1,
  });
  const task = await waitState(un.url, created.body.task.id, ["dead"], 3_000);
  assert(
    String((task.error as { message: string }).message).includes("timed out after 150ms"),
    `error says it timed out: ${JSON.stringify(task.error)}`,
  );
});

Deno.test("cancelling a running sleep task ends it within 200 ms as cancelled", async () => {
  await using un = await startUn({});
  const created = await api<{ task: Task }>(un.url, "POST", "/un/tasks/create", {
    type: "sleep",
    payload: { ms: 30_000 },
  });
  const id = created.body.task.id;
  await waitState(un.url, id, ["running"]);
  const started = performance.now();
  const cancelled = await api<{ task: Task }>(un.url, "DELETE", `/un/tasks/${id}`);
  assert.deepEqual(cancelled.status, 200);
  assert.deepEqual(cancelled.body.task.state, "cancelled");
  // The worker lets go of it: the pool shows no worker on it any more.
  await eventually(async () => {
    const { body } = await api<{ workers: Array<{ taskId: string | null }> }>(
      un.url,
      "GET",
      "/un/workers",
    );
    return body.workers.every((w) => w.taskId !== id);
  }, { timeoutMs: 1_000, message: "the worker to drop the cancelled task" });
  const elapsed = performance.now() - started;
  assert(elapsed < 200, `cancel took ${Math.round(elapsed)}ms`);
  const task = await waitState(un.url, id, ["cancelled"]);
  assert.deepEqual(task.state, "cancelled", "a late completion cannot overwrite the cancel");
});
