/**
 * Signals under `deno task start`, as systemd, tmux and most supervisors
 * send them: SIGTERM or SIGINT to the whole process group reaches un twice
 * (directly, and forwarded by `deno task`), and must still give one graceful
 * stop and exit 0. A human pressing Ctrl-C a second time, later, still exits
 * at once (130). Real subprocesses; `detached: true` makes `deno task` lead
 * its own process group, which the test signals as `kill -- -PGID` does.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { signalDecider } from "../cli/signals.ts";
import type { Task } from "../lib/tasks/task.ts";
import { createTask } from "./helpers/api.ts";
import { api } from "./helpers/http.ts";
import { REPO, startUn, type UnProcess } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

/** A `deno task start` in its own process group, serving. */
async function startTask(dir: string): Promise<{
  url: string;
  pid: number;
  exit: Promise<{ code: number; stderr: string }>;
}> {
  const config = join(dir, "un.config.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      api: { port: 0 },
      store: { path: join(dir, ".un") },
      workers: { shutdownGraceMs: 20_000 },
    }),
  );
  const parent = Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("UN_"));
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "start"],
    cwd: REPO,
    env: { ...Object.fromEntries(parent), NO_COLOR: "1", UN_CONFIG: config },
    clearEnv: true,
    detached: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const next = await lines.read();
    if (next.done) break;
    out += next.value;
  }
  const drained = (async () => {
    while (!(await lines.read()).done) { /* drain */ }
  })();
  const exit = Promise.all([child.status, stderr, drained]).then(([status, text]) => ({
    code: status.code,
    stderr: text,
  }));
  const url = out.split("\n")[0].trim();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, `first line: ${out}`);
  return { url, pid: child.pid, exit };
}

/** Creates a sleep task and waits until a worker runs it, so the stop has work to wait for. */
async function runningSleep(un: Pick<UnProcess, "url">, ms: number): Promise<Task> {
  const task = await createTask(un as UnProcess, { type: "sleep", payload: { ms } });
  await eventually(
    async () =>
      (await api<{ task: Task }>(un.url, "GET", `/un/tasks/${task.id}`)).body.task.state ===
        "running",
    { timeoutMs: 10_000, message: "the sleep task to run" },
  );
  return task;
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`${signal} to the process group of deno task start: graceful stop, exit 0`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "un_signals_" });
    try {
      const un = await startTask(dir);
      await runningSleep(un, 1_500);
      Deno.kill(-un.pid, signal);
      const { code, stderr } = await un.exit;
      assert.equal(code, 0, stderr);
      assert.match(stderr, new RegExp(`stopping reason=${signal}`));
      assert.match(stderr, /workers stopped finished=1 handedBack=0/, "the running task finished");
      assert.match(stderr, new RegExp(`stopped reason=${signal}`));
      assert.doesNotMatch(stderr, /second signal/);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  });
}

Deno.test("a second Ctrl-C a moment later still exits at once with 130", async () => {
  await using un = await startUn({ config: { workers: { shutdownGraceMs: 20_000 } } });
  await runningSleep(un, 30_000);
  un.proc.kill("SIGINT");
  await eventually(() => un.stderrText().includes("stopping reason=SIGINT"), {
    timeoutMs: 5_000,
    message: "stopping",
  });
  // Past the window in which a repeat counts as the same request.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.doesNotMatch(un.stderrText(), /stopped reason/, "still waiting for the task");
  const started = Date.now();
  un.proc.kill("SIGINT");
  const status = await un.waitExit();
  assert.equal(status.code, 130, un.stderrText());
  assert.ok(Date.now() - started < 5_000, "at once, not after the grace period");
  assert.match(un.stderrText(), /second signal: exiting now/);
});

Deno.test("signalDecider: a repeat at once is the same request; later, or another signal, exits", () => {
  const decide = signalDecider(1_000);
  assert.equal(decide("SIGTERM", 10_000), "stop");
  assert.equal(decide("SIGTERM", 10_004), "repeat", "forwarded by deno task");
  assert.equal(decide("SIGTERM", 10_999), "repeat");
  assert.equal(decide("SIGTERM", 11_000), "exit", "a second request");
  const other = signalDecider(1_000);
  assert.equal(other("SIGTERM", 0), "stop");
  assert.equal(other("SIGINT", 5), "exit", "another signal is another request");
});
