/**
 * Hooks managed at run time against a real `un start` (routes/hooks.ts,
 * lib/hooks/): a hook created over the API turns the next file event into a
 * task without a restart; a `where` that does not match gives none;
 * `sample.every: 3` gives 3 tasks from 9 events; the hook survives a restart;
 * on Redis a second process sees it and routes with it. Also the refusals
 * (unknown task type, bad `where`, config hooks read-only), the `hook.*`
 * events, and `un hooks`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { HookView } from "../lib/hooks/manage.ts";
import { runCli } from "./helpers/cli.ts";
import { eventually } from "./helpers/eventually.ts";
import { history } from "./helpers/events.ts";
import { api } from "./helpers/http.ts";
import { dropPrefix, REDIS_URL, redisForTests } from "./helpers/redis-store.ts";
import { startUn, type UnProcess } from "./helpers/un-process.ts";

type ErrorBody = { error: { code: string; message: string; details: { field?: string } } };
type TaskList = { tasks: Array<{ type: string; payload: { path?: string } }> };

/** The tasks of one type made so far. */
async function tasksOf(un: UnProcess, type: string): Promise<TaskList["tasks"]> {
  const res = await api<TaskList>(un.url, "GET", `/un/tasks?type=${type}&limit=1000`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.tasks;
}

/** Writes `names` into `dir` and waits until each has its `file.created`. */
async function writeFiles(un: UnProcess, dir: string, names: string[]): Promise<void> {
  for (const name of names) await Deno.writeTextFile(join(dir, name), name);
  await eventually(async () => {
    const seen = (await history(un, "file.created")).map((e) => e.subject ?? "");
    return names.every((name) => seen.some((s) => s.endsWith(name)));
  }, { timeoutMs: 10_000, message: `file.created of ${names.join(", ")}` });
}

async function addHook(un: UnProcess, body: Record<string, unknown>): Promise<HookView> {
  const res = await api<{ hook: HookView }>(un.url, "POST", "/un/hooks", body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.hook;
}

function fsConfig(watched: string, extra: Record<string, unknown> = {}) {
  return {
    sources: [{ id: "inbox", kind: "fs", path: watched, debounceMs: 20, maxDelayMs: 200 }],
    hooks: [{ on: "nothing.ever", task: "file.metadata" }],
    ...extra,
  };
}

Deno.test("hooks API: a hook applies to the next event, where and sample filter, it survives a restart", async () => {
  const watched = await Deno.makeTempDir({ prefix: "un_hooks_watch_" });
  try {
    const config = fsConfig(watched);
    const first = await startUn({ config });
    let dir = first.dir;
    try {
      // No hook yet: a file makes no task.
      await writeFiles(first, watched, ["before.md"]);
      assert.equal((await tasksOf(first, "file.metadata")).length, 0);

      const hook = await addHook(first, {
        on: "file.created",
        task: "file.metadata",
        where: 'subject.endsWith(".md") && data.size >= 0',
      });
      assert.equal(hook.origin, "api");
      assert.equal(hook.enabled, true);
      await writeFiles(first, watched, ["one.md", "skip.txt"]);
      await eventually(async () => (await tasksOf(first, "file.metadata")).length === 1, {
        message: "one task for one.md",
      });
      // The `.txt` did not match the `where`: still one task a moment later.
      await new Promise((r) => setTimeout(r, 300));
      const made = await tasksOf(first, "file.metadata");
      assert.equal(made.length, 1);
      assert.match(made[0].payload.path ?? "", /one\.md$/);

      // Sampled: every 3rd of 9 matching events.
      const sampled = await addHook(first, {
        on: "file.created",
        task: "file.metadata",
        where: 'subject.endsWith(".log")',
        sample: { every: 3 },
      });
      const logs = Array.from({ length: 9 }, (_, i) => `s${i}.log`);
      await writeFiles(first, watched, logs);
      await new Promise((r) => setTimeout(r, 300));
      const logTasks = (await tasksOf(first, "file.metadata"))
        .filter((t) => t.payload.path?.endsWith(".log"));
      assert.equal(logTasks.length, 3);

      // Refusals.
      const unknown = await api<ErrorBody>(first.url, "POST", "/un/hooks", {
        on: "file.*",
        task: "no.such.type",
      });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.body.error.details.field, "task");
      assert.match(unknown.body.error.message, /no\.such\.type/);
      const badWhere = await api<ErrorBody>(first.url, "POST", "/un/hooks", {
        on: "file.*",
        task: "file.metadata",
        where: "data.size >",
      });
      assert.equal(badWhere.status, 400);
      assert.equal(badWhere.body.error.details.field, "where");
      assert.match(badWhere.body.error.message, /data\.size >/);
      const list = await api<{ hooks: HookView[] }>(first.url, "GET", "/un/hooks");
      assert.deepEqual(list.body.hooks.map((h) => [h.id, h.origin]), [
        ["config-1", "config"],
        [hook.id, "api"],
        [sampled.id, "api"],
      ]);
      for (const method of ["PATCH", "DELETE"]) {
        const res = await api<ErrorBody>(first.url, method, "/un/hooks/config-1", {});
        assert.equal(res.status, 409, `${method}: ${JSON.stringify(res.body)}`);
      }

      // Disabled, then removed: announced each time.
      const off = await api<{ hook: HookView }>(first.url, "PATCH", `/un/hooks/${sampled.id}`, {
        enabled: false,
      });
      assert.equal(off.status, 200, JSON.stringify(off.body));
      assert.equal(off.body.hook.enabled, false);
      const gone = await api(first.url, "DELETE", `/un/hooks/${sampled.id}`);
      assert.equal(gone.status, 200);
      assert.equal((await api(first.url, "GET", `/un/hooks/${sampled.id}`)).status, 404);
      const changes = (await history(first, "hook.*")).map((e) => [e.type, e.subject]);
      assert.deepEqual(changes, [
        ["hook.created", hook.id],
        ["hook.created", sampled.id],
        ["hook.updated", sampled.id],
        ["hook.deleted", sampled.id],
      ]);

      // The CLI lists them.
      const env = { UN_URL: first.url };
      const table = await runCli(["hooks"], env);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, new RegExp(hook.id));
      assert.match(table.stdout, /config-1/);
      dir = first.dir;
    } finally {
      await first.stop();
    }

    // After a restart on the same store: the hook still applies.
    await using again = await startUn({ config, cwd: dir });
    try {
      const before = (await tasksOf(again, "file.metadata")).length;
      await writeFiles(again, watched, ["after.md"]);
      await eventually(
        async () => (await tasksOf(again, "file.metadata")).length === before + 1,
        { message: "a task for after.md after the restart" },
      );
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  } finally {
    await Deno.remove(watched, { recursive: true });
  }
});

const redisTests = await redisForTests("hooks API on Redis");

Deno.test({
  name:
    `hooks API on Redis: a hook added through one process is seen and applied by another${redisTests.suffix}`,
  ignore: redisTests.ignore,
  async fn() {
    const watched = await Deno.makeTempDir({ prefix: "un_hooks_redis_" });
    const prefix = `un-test:${crypto.randomUUID()}:`;
    const config = fsConfig(watched, { redis: { url: REDIS_URL, prefix } });
    try {
      await using scanner = await startUn({ config });
      await using other = await startUn({ config, args: ["--role", "api"] });
      const hook = await addHook(other, { on: "file.created", task: "file.metadata" });
      await eventually(async () => {
        const res = await api<{ hooks: HookView[] }>(scanner.url, "GET", "/un/hooks");
        return res.body.hooks.some((h) => h.id === hook.id);
      }, { message: "the other process lists the hook" });
      // The scanning process routes with it (its hooks were reloaded on `hook.created`).
      await new Promise((r) => setTimeout(r, 200));
      await writeFiles(scanner, watched, ["shared.md"]);
      await eventually(async () => (await tasksOf(other, "file.metadata")).length >= 1, {
        message: "a task for shared.md",
      });
    } finally {
      await dropPrefix(prefix);
      await Deno.remove(watched, { recursive: true });
    }
  },
});
