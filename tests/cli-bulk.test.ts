/**
 * `un tasks` finding and bulk commands against a real `un start`: filters
 * by key and correlation id, `--all` paging with the cursor, `clear`,
 * `retry` and `cancel` with `--dry-run`, and bad input as exit 2 with one line.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Task } from "../lib/tasks/task.ts";
import { createTask } from "./helpers/api.ts";
import { runCli } from "./helpers/cli.ts";
import { api } from "./helpers/http.ts";
import { REPO, startUn } from "./helpers/un-process.ts";

const HANDLERS = join(REPO, "tests/fixtures/bulk-handlers.ts");

Deno.test("cli: un tasks filters, --all, clear/retry/cancel with --dry-run, exit 2 on bad input", async (t) => {
  await using un = await startUn({ config: { handlers: HANDLERS, workers: { concurrency: 2 } } });
  const env = { UN_URL: un.url };
  const later = { type: "busy", payload: { ms: 1 }, runAt: Date.now() + 60_000, queue: "mail" };
  const keyed = await createTask(un, { ...later, key: "k-1", correlationId: "c-9" });
  for (let i = 0; i < 5; i++) await createTask(un, later);

  await t.step("filters and --all", async () => {
    const byKey = await runCli(["tasks", "--key", "k-1", "--json"], env);
    assert.equal(byKey.code, 0, byKey.stderr);
    assert.deepEqual((JSON.parse(byKey.stdout).tasks as Task[]).map((x) => x.id), [keyed.id]);
    const byCorrelation = await runCli(["tasks", "--correlation", "c-9", "--json"], env);
    assert.equal(JSON.parse(byCorrelation.stdout).tasks.length, 1);
    const all = await runCli(["tasks", "--queue", "mail", "--limit", "2", "--all", "--json"], env);
    assert.equal(all.code, 0, all.stderr);
    const ids = (JSON.parse(all.stdout).tasks as Task[]).map((x) => x.id);
    assert.equal(ids.length, 6);
    assert.equal(new Set(ids).size, 6);
  });

  await t.step("cancel, retry and clear, each with --dry-run first", async () => {
    const dry = await runCli(["tasks", "cancel", "--queue", "mail", "--dry-run"], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /6 task\(s\) match; nothing changed/);
    const cancel = await runCli(["tasks", "cancel", "--queue", "mail", "--json"], env);
    assert.deepEqual(JSON.parse(cancel.stdout), { matched: 6, changed: 6 });
    const retryDry = await runCli([
      "tasks",
      "retry",
      "--state",
      "cancelled",
      "--queue",
      "mail",
      "--dry-run",
      "--json",
    ], env);
    assert.deepEqual(JSON.parse(retryDry.stdout), { matched: 6, changed: 0 });
    const clear = await runCli(["tasks", "clear", "--state", "cancelled", "--queue", "mail"], env);
    assert.equal(clear.code, 0, clear.stderr);
    assert.match(clear.stdout, /6 task\(s\) matched, 6 changed/);
    const { body } = await api<{ tasks: Task[] }>(un.url, "GET", "/un/tasks?queue=mail");
    assert.deepEqual(body.tasks, []);
  });

  await t.step("bad input: exit 2 with one line", async () => {
    for (
      const args of [
        ["tasks", "--state", "done"],
        ["tasks", "--created-after", "yesterday"],
        ["tasks", "clear"],
        ["tasks", "reprioritize", "--queue", "mail"],
        ["tasks", "retry", "--queue", "mail", "--priority", "3"],
        ["tasks", "--dry-run"],
      ]
    ) {
      const run = await runCli(args, env);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    }
  });
});
