/**
 * Hard timeouts, black-box against a real `un start` with a handlers module
 * in a temp dir. An isolated handler spinning in `while (true) {}` with
 * `timeoutMs: 500` is terminated `workers.killAfterMs` after its timeout, its
 * worker slot takes the next task, and the process answers `/health` all the
 * while; progress, events and log lines of an isolated handler reach the
 * runtime; a handler run in process that ignores its signal is reported
 * (log line, `task.overstayed`, `un_tasks_overstayed_total`). Which tasks run
 * isolated (type, queue, `"*"` queue, hook) is checked on its own.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { configSchema } from "../lib/config/schema.ts";
import { isIsolated } from "../lib/handlers/isolate.ts";
import type { Json } from "../lib/events/cloud-event.ts";
import type { Task } from "../lib/tasks/task.ts";
import { createTask, taskState } from "./helpers/api.ts";
import { eventually } from "./helpers/eventually.ts";
import { history } from "./helpers/events.ts";
import { scrape } from "./helpers/prometheus.ts";
import { makeTask } from "./helpers/handlers.ts";
import { startUn } from "./helpers/un-process.ts";

const HANDLERS = `
export default {
  spin: () => { while (true) { /* ignores ctx.signal, never yields */ } },
  report: async (task, ctx) => {
    await ctx.progress(0.5, "half way");
    ctx.emit("app.reported", { n: task.payload.n });
    ctx.log.info("reported from the isolate", { n: task.payload.n });
    return { scope: globalThis.constructor.name };
  },
  where: () => ({ scope: globalThis.constructor.name }),
  linger: () => new Promise((resolve) => setTimeout(() => resolve("late"), 1_500)),
};
`;

const KILL_AFTER_MS = 300;

async function handlersDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "un-isolate-" });
  await Deno.writeTextFile(join(dir, "handlers.ts"), HANDLERS);
  return dir;
}

Deno.test("an isolated busy loop is terminated after its timeout; the slot and the process go on", async () => {
  const dir = await handlersDir();
  await using un = await startUn({
    cwd: dir,
    config: {
      handlers: join(dir, "handlers.ts"),
      workers: { concurrency: 1, isolate: ["spin", "report"], killAfterMs: KILL_AFTER_MS },
    },
  });
  try {
    const spin = await createTask(un, { type: "spin", timeoutMs: 500, maxAttempts: 1 });
    const next = await createTask(un, { type: "report", payload: { n: 7 } });
    const inProcess = await createTask(un, { type: "where" });

    // The process answers while the handler spins (and while it is terminated).
    let slowest = 0;
    let spun: Task;
    for (;;) {
      const asked = performance.now();
      const res = await fetch(`${un.url}/health`);
      await res.body?.cancel();
      assert.equal(res.status, 200);
      slowest = Math.max(slowest, performance.now() - asked);
      spun = await taskState(un, spin.id);
      if (spun.state !== "queued" && spun.state !== "running") break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // A process stuck in the loop would not answer for the whole 800 ms; starting
    // the Web Worker holds the main thread up to ~300 ms on two busy cores.
    assert.ok(slowest < 500, `/health took ${slowest.toFixed(0)}ms during the busy loop`);
    assert.equal(spun.state, "dead");
    assert.equal(spun.error?.message, "terminated after timeout");
    const ranMs = spun.finishedAt! - spun.startedAt!;
    // Timeout 500 ms + killAfterMs, plus the store's write.
    assert.ok(ranMs >= 500 + KILL_AFTER_MS - 20, `ended after ${ranMs}ms: too early`);
    assert.ok(ranMs < 500 + KILL_AFTER_MS + 200, `ended after ${ranMs}ms`);

    // The one worker slot takes the next task, isolated again, in a fresh Web Worker.
    const reported = await eventually(async () => {
      const task = await taskState(un, next.id);
      return task.state === "succeeded" ? task : undefined;
    }, { message: "the task after the terminated one to succeed" });
    assert.deepEqual(reported.result, { scope: "DedicatedWorkerGlobalScope" });
    const emitted = await history(un, "app.reported");
    assert.equal(emitted.length, 1);
    assert.deepEqual(emitted[0].data, { n: 7 });
    assert.equal(emitted[0].correlationid, next.id);
    const progress = (await history(un, "task.progress")).filter((e) => e.subject === next.id);
    assert.equal(progress.length, 1);
    assert.deepEqual(
      [
        (progress[0].data as { progress: number }).progress,
        (progress[0].data as { message: string }).message,
      ],
      [0.5, "half way"],
    );
    await eventually(() => /reported from the isolate/.test(un.stderrText()), {
      message: "the isolated handler's log line",
    });
    assert.match(un.stderrText(), new RegExp(`isolated handler ignored its signal.*${spin.id}`));

    const plain = await eventually(async () => {
      const task = await taskState(un, inProcess.id);
      return task.state === "succeeded" ? task : undefined;
    });
    assert.notDeepEqual(plain.result, { scope: "DedicatedWorkerGlobalScope" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a cancelled isolated busy loop is terminated and the slot is free again", async () => {
  const dir = await handlersDir();
  await using un = await startUn({
    cwd: dir,
    config: {
      handlers: join(dir, "handlers.ts"),
      workers: { concurrency: 1, isolate: ["spin", "where"], killAfterMs: KILL_AFTER_MS },
    },
  });
  try {
    const spin = await createTask(un, { type: "spin" });
    await eventually(async () => (await taskState(un, spin.id)).state === "running");
    const cancel = await fetch(`${un.url}/un/tasks/${spin.id}`, { method: "DELETE" });
    await cancel.body?.cancel();
    assert.ok(cancel.ok, `cancel answered ${cancel.status}`);
    const next = await createTask(un, { type: "where" });
    const done = await eventually(async () => {
      const task = await taskState(un, next.id);
      return task.state === "succeeded" ? task : undefined;
    }, { message: "the slot's next task after the cancel" });
    assert.deepEqual(done.result, { scope: "DedicatedWorkerGlobalScope" });
    assert.equal((await taskState(un, spin.id)).state, "cancelled");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a handler run in process that overstays its timeout is reported", async () => {
  const dir = await handlersDir();
  await using un = await startUn({
    cwd: dir,
    config: {
      handlers: join(dir, "handlers.ts"),
      workers: { concurrency: 1, killAfterMs: KILL_AFTER_MS },
    },
  });
  try {
    const task = await createTask(un, { type: "linger", timeoutMs: 200, maxAttempts: 1 });
    const events = await eventually(async () => {
      const found = (await history(un, "task.overstayed")).filter((e) => e.subject === task.id);
      return found.length ? found : undefined;
    }, { message: "task.overstayed" });
    assert.equal(events.length, 1);
    const data = events[0].data as Record<string, unknown>;
    assert.equal(data.type, "linger");
    assert.equal(data.reason, "timeout");
    assert.equal(data.killAfterMs, KILL_AFTER_MS);
    const ended = await taskState(un, task.id);
    assert.equal(ended.state, "dead");
    assert.equal(ended.error?.message, "timed out after 200ms");
    const line = un.stderrText().split("\n").find((l) => l.includes("task overstayed"));
    assert.ok(line, "a warning about the overstaying task");
    assert.match(line, /WARN|warn/);
    assert.ok(line.includes(task.id) && line.includes("linger"), line);
    const { families } = await scrape(un);
    const metric = families.get("un_tasks_overstayed_total");
    assert.ok(metric, "un_tasks_overstayed_total");
    const sample = metric.metrics.find((m) => m.labels?.type === "linger");
    assert.equal(Number(sample?.value), 1);
    assert.equal(sample?.labels?.queue, "default");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test('tasks run isolated by type, by queue, by the "*" queue and by the hook that made them', () => {
  const task = (type: string, queue = "default", event?: Record<string, Json>) => ({
    ...makeTask(type, event ? { event } : {}),
    queue,
  } as Task);
  const plain = configSchema.parse({});
  assert.equal(isIsolated(plain, task("embed")), false);

  const byType = configSchema.parse({ workers: { isolate: ["embed"] } });
  assert.equal(isIsolated(byType, task("embed")), true);
  assert.equal(isIsolated(byType, task("other")), false);

  const byQueue = configSchema.parse({ queues: { slow: { isolate: true } } });
  assert.equal(isIsolated(byQueue, task("embed", "slow")), true);
  assert.equal(isIsolated(byQueue, task("embed")), false);
  const everyQueue = configSchema.parse({
    queues: { "*": { isolate: true }, fast: { isolate: false } },
  });
  assert.equal(isIsolated(everyQueue, task("embed", "mail")), true);
  assert.equal(isIsolated(everyQueue, task("embed", "fast")), false);

  const hooked = configSchema.parse({
    hooks: [{ on: "file.*", task: "embed", isolate: true }, { on: "app.x", task: "embed" }],
  });
  const fromFile = { type: "file.created", source: "/un/sources/docs" };
  assert.equal(isIsolated(hooked, task("embed", "default", fromFile)), true);
  assert.equal(isIsolated(hooked, task("embed", "default", { type: "app.x" })), false);
  assert.equal(isIsolated(hooked, task("embed", "mail", fromFile)), false, "another queue");
  assert.equal(isIsolated(hooked, task("embed")), false, "not made by a hook");
});
