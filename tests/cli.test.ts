/**
 * The `un` CLI as a user runs it: real `deno run main.ts <command>`
 * subprocesses against a real `un start`. Tables, `--json`, exit codes (0 ok,
 * 1 the server said no, 2 with one stderr line for bad usage or no instance),
 * `enqueue --wait` and `events --follow`.
 */

import assert from "node:assert/strict";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import type { Task } from "../lib/tasks/task.ts";
import { api, closedPort } from "./helpers/http.ts";
import { type CliResult, followCli, runCli } from "./helpers/cli.ts";
import { startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

function assertOneLine(result: CliResult, code: number, pattern: RegExp): void {
  assert.equal(
    result.code,
    code,
    `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
  );
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `expected one stderr line, got:\n${result.stderr}`);
  assert.match(lines[0], pattern);
}

Deno.test("no instance at UN_URL: exit 2 with one line naming the URL and the fix", async () => {
  const url = `http://127.0.0.1:${closedPort()}`;
  for (const args of [["tasks"], ["events"], ["workers"], ["stop"], ["enqueue", "noop"]]) {
    const result = await runCli(args, { UN_URL: url });
    assertOneLine(
      result,
      2,
      new RegExp(
        `^un: cannot reach ${url} \\(connection refused\\); is \`un start\` running\\? set UN_URL$`,
      ),
    );
    assert.equal(result.stdout, "");
  }
});

Deno.test("bad usage: exit 2 with one line saying what is wrong", async () => {
  const env = { UN_URL: `http://127.0.0.1:${closedPort()}` };
  const cases: Array<[string[], RegExp]> = [
    [["bogus"], /^un: unknown command "bogus"/],
    [["tasks", "--limit", "x"], /^un: --limit must be an integer 1\.\.1000, got "x"$/],
    [["tasks", "--state", "sleeping"], /^un: --state must be one of waiting, .*got "sleeping"$/],
    [["tasks", "--nope"], /^un: unknown option '--nope'.*usage: un tasks/],
    [["retry"], /^un: missing argument; usage: un retry <id>/],
    [["cancel", "a", "b"], /^un: unexpected argument "b"; usage: un cancel <id>/],
    [["publish", "x", "--data", "{"], /^un: --data must be JSON/],
    [
      ["publish", "x", "--priority", "urgent"],
      /^un: --priority must be one of critical, high, normal, low/,
    ],
    [
      ["enqueue", "noop", "--priority", "12"],
      /^un: --priority must be an integer 0\.\.9, got "12"$/,
    ],
    [["enqueue", "noop", "--delay", "soon"], /^un: --delay must be milliseconds or a duration/],
    [["workers", "--scale", "0"], /^un: --scale must be an integer 1\.\.256, got "0"$/],
  ];
  for (const [args, pattern] of cases) {
    const result = await runCli(args, env);
    assertOneLine(result, 2, pattern);
  }
  assertOneLine(await runCli(["tasks"], { UN_URL: "not a url" }), 2, /^un: UN_URL must be a URL/);
});

Deno.test("un help prints the commands and exits 0", async () => {
  const result = await runCli(["help"], {});
  assert.equal(result.code, 0);
  for (
    const command of [
      "start",
      "tasks",
      "events",
      "workers",
      "publish",
      "enqueue",
      "retry",
      "cancel",
      "stop",
    ]
  ) {
    assert.match(result.stdout, new RegExp(`^  ${command}`, "m"));
  }
});

Deno.test("CLI against a running instance", async (t) => {
  await using server = await startUn({
    config: {
      workers: { concurrency: 2, maxAttempts: 1 },
      // A command that exits 1: a task that passes create and fails when it runs.
      exec: { commands: { fail: { command: ["false"] } } },
    },
  });
  const env = { UN_URL: server.url };

  await t.step(
    "enqueue --json prints the created task; tasks shows it in a table and as JSON",
    async () => {
      const created = await runCli([
        "enqueue",
        "noop",
        "--payload",
        '{"n":42}',
        "--priority",
        "8",
        "--json",
      ], env);
      assert.equal(created.code, 0, created.stderr);
      const { task } = JSON.parse(created.stdout) as { task: Task };
      assert.equal(task.type, "noop");
      assert.equal(task.priority, 8);
      await eventually(async () => {
        const res = await api<{ task: Task }>(server.url, "GET", `/un/tasks/${task.id}`);
        return res.body.task.state === "succeeded";
      }, { timeoutMs: 10_000, message: "noop to succeed" });

      const listed = await runCli(["tasks"], env);
      assert.equal(listed.code, 0, listed.stderr);
      const [head, ...rows] = listed.stdout.trimEnd().split("\n");
      assert.deepEqual(head.split(/\s+/), [
        "ID",
        "TYPE",
        "QUEUE",
        "STATE",
        "PRIORITY",
        "ATTEMPTS",
        "PROGRESS",
        "AGE",
      ]);
      const row = rows.find((r) => r.startsWith(task.id));
      assert.ok(row, listed.stdout);
      assert.deepEqual(row.split(/\s+/).slice(0, 7), [
        task.id,
        "noop",
        "default",
        "succeeded",
        "8",
        "1/1",
        "100%",
      ]);

      const json = await runCli(["tasks", "--state", "succeeded", "--json"], env);
      assert.equal(json.code, 0);
      const body = JSON.parse(json.stdout) as { tasks: Task[] };
      assert.ok(body.tasks.some((t) => t.id === task.id));

      const detail = await runCli(["tasks", task.id], env);
      assert.equal(detail.code, 0, detail.stderr);
      assert.match(detail.stdout, /^state\s+succeeded$/m);
      assert.match(detail.stdout, /^result\s+\{"n":42\}$/m);
      assert.match(detail.stdout, /^sort key\s+-?\d+ \(lower runs first\)$/m);
      assert.match(detail.stdout, /priority 8/);
    },
  );

  await t.step("an error answer exits 1 with one line", async () => {
    assertOneLine(
      await runCli(["tasks", "01ZZZZZZZZZZZZZZZZZZZZZZZZ"], env),
      1,
      /^un: task 01Z+ not found \(404 not_found\)$/,
    );
    assertOneLine(
      await runCli(["publish", "bad.*"], env),
      1,
      /^un: type must be dot-separated words.*\(400 invalid_request\)$/,
    );
  });

  await t.step("enqueue --wait exits 0 with the result when the task succeeds", async () => {
    const result = await runCli(["enqueue", "sleep", "--payload", '{"ms":400}', "--wait"], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^task \S+ succeeded: \{"slept":400\}$/m);
  });

  await t.step("enqueue --wait exits 1 when the task fails", async () => {
    const result = await runCli(
      ["enqueue", "exec", "--payload", '{"command":"fail"}', "--wait"],
      env,
    );
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /^task \S+ (failed|dead): /m);
  });

  await t.step("cancel and retry report the new state", async () => {
    const created = await runCli(["enqueue", "noop", "--delay", "1h", "--json"], env);
    const { task } = JSON.parse(created.stdout) as { task: Task };
    assert.equal(task.state, "scheduled");
    const cancelled = await runCli(["cancel", task.id], env);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(cancelled.stdout.trim(), `task ${task.id} is cancelled`);
    assertOneLine(await runCli(["cancel", task.id], env), 1, /\(409 conflict\)$/);
    const retried = await runCli(["retry", task.id, "--json"], env);
    assert.equal(retried.code, 0, retried.stderr);
    assert.notEqual((JSON.parse(retried.stdout) as { task: Task }).task.state, "cancelled");
  });

  await t.step("publish, then events shows it (table and --json)", async () => {
    const published = await runCli(
      ["publish", "cli.ping", "--data", '{"x":1}', "--subject", "here"],
      env,
    );
    assert.equal(published.code, 0, published.stderr);
    const id = /^published cli\.ping (\S+)$/.exec(published.stdout.trim())?.[1];
    assert.ok(id, published.stdout);

    const table = await runCli(["events", "--type", "cli.*"], env);
    assert.equal(table.code, 0, table.stderr);
    const row = table.stdout.split("\n").find((line) => line.startsWith(id));
    assert.ok(row, table.stdout);
    assert.match(row, /cli\.ping\s+here\s+\{"x":1\}$/);

    const json = await runCli(["events", "--type", "cli.*", "--json"], env);
    const { events } = JSON.parse(json.stdout) as { events: CloudEvent[] };
    assert.deepEqual(events.map((e) => e.id), [id]);
  });

  await t.step("events --follow prints new events as they happen", async () => {
    const follow = followCli<CloudEvent>(
      ["events", "--follow", "--type", "follow.*", "--json"],
      env,
    );
    const seen = follow.seen;
    try {
      // Publish until the follower (which starts from "now") has connected and shows one.
      const first = await eventually(async () => {
        await api(server.url, "POST", "/un/events/publish", { type: "follow.tick" });
        return seen.length > 0 ? seen[0] : undefined;
      }, { timeoutMs: 20_000, message: "events --follow to print an event" });
      assert.equal(first.type, "follow.tick");
      const marker = await api<{ event: CloudEvent }>(server.url, "POST", "/un/events/publish", {
        type: "follow.marker",
        data: { last: true },
      });
      await eventually(() => seen.some((e) => e.id === marker.body.event.id), {
        timeoutMs: 10_000,
        message: "the marker event",
      });
    } finally {
      const { code, stderr } = await follow.stop();
      assert.equal(code, 0, stderr);
    }
  });

  await t.step("workers shows the pool; --scale changes it", async () => {
    const table = await runCli(["workers"], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^concurrency 2, \d+ busy/);
    assert.match(table.stdout, /^WORKER\s+STATE\s+TASK\s+TYPE\s+RUNNING FOR$/m);
    const scaled = await runCli(["workers", "--scale", "3"], env);
    assert.equal(scaled.stdout.trim(), "concurrency is now 3");
    const json = JSON.parse((await runCli(["workers", "--json"], env)).stdout) as {
      concurrency: number;
    };
    assert.equal(json.concurrency, 3);
  });

  await t.step("stop stops the instance", async () => {
    const result = await runCli(["stop"], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), `un at ${server.url} is stopping`);
    assert.equal((await server.waitExit()).code, 0);
  });
});

Deno.test("UN_TOKEN is sent as the bearer token", async () => {
  const token = "cli-token-123456";
  await using server = await startUn({ config: { api: { token } } });
  assertOneLine(await runCli(["tasks"], { UN_URL: server.url }), 1, /\(401 unauthorized\)$/);
  const ok = await runCli(["tasks"], { UN_URL: server.url, UN_TOKEN: token });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), "no tasks");
});
