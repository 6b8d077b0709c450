/**
 * Graceful shutdown against a real `un start`: SIGTERM stops claiming, lets a
 * short task finish within the grace period, hands a long one back, exits 0;
 * the next start runs the handed-back task. `POST /un/stop` does the same,
 * and an open event stream does not hold the exit up.
 */

import assert from "node:assert/strict";
import { openStream } from "./helpers/events.ts";
import { api } from "./helpers/http.ts";
import { startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

type Task = { id: string; state: string; attempts: number };

Deno.test("SIGTERM finishes short tasks, hands long ones back, exits 0; the next start runs them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un_shutdown_" });
  const config = { workers: { concurrency: 2, shutdownGraceMs: 400 } };
  try {
    const first = await startUn({ cwd: dir, config });
    const short = (await api<{ task: Task }>(first.url, "POST", "/un/tasks/create", {
      type: "sleep",
      payload: { ms: 200 },
    })).body.task;
    const long = (await api<{ task: Task }>(first.url, "POST", "/un/tasks/create", {
      type: "sleep",
      payload: { ms: 30_000 },
    })).body.task;
    await eventually(async () => {
      const states = await Promise.all(
        [short, long].map(async (t) =>
          (await api<{ task: Task }>(first.url, "GET", `/un/tasks/${t.id}`)).body.task.state
        ),
      );
      return states.every((s) => s === "running");
    }, { timeoutMs: 5_000, message: "both tasks running" });

    const stopped = performance.now();
    const status = await first.stop("SIGTERM", 10_000);
    const tookMs = performance.now() - stopped;
    assert.equal(status.code, 0, first.stderrText());
    assert.ok(tookMs < 5_000, `shutdown took ${Math.round(tookMs)}ms`);
    assert.match(first.stderrText(), /workers stopped.*handedBack=1/);

    await using second = await startUn({ cwd: dir, config });
    const shortAfter = (await api<{ task: Task }>(second.url, "GET", `/un/tasks/${short.id}`)).body
      .task;
    assert.equal(shortAfter.state, "succeeded", "the short task finished within the grace period");
    const longAfter = await eventually(async () => {
      const t = (await api<{ task: Task }>(second.url, "GET", `/un/tasks/${long.id}`)).body.task;
      return t.state === "running" ? t : undefined;
    }, { timeoutMs: 5_000, message: "the handed-back task to run again" });
    assert.equal(longAfter.attempts, 2);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("POST /un/stop answers 202 and the process exits 0", async () => {
  await using un = await startUn();
  const res = await api(un.url, "POST", "/un/stop");
  assert.deepEqual(res, { status: 202, body: { stopping: true } });
  const status = await un.waitExit();
  assert.equal(status.code, 0, un.stderrText());
});

Deno.test("an open event stream does not keep a stopping process alive", async () => {
  await using un = await startUn();
  const stream = await openStream(`${un.url}/un/events/stream`);
  try {
    const status = await un.stop("SIGTERM", 15_000);
    assert.equal(status.code, 0, `exit ${status.code} signal ${status.signal}\n${un.stderrText()}`);
  } finally {
    await stream.close();
  }
});
