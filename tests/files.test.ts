/**
 * The directory source end to end, against a real `un start`: the README's
 * quick start (a file dropped into inbox/ gives a succeeded `file.metadata`
 * task), changes made while `un` was stopped, and a burst of 1 000 files.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { api } from "./helpers/http.ts";
import { MAIN, REPO, startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

interface Task {
  id: string;
  type: string;
  state: string;
  payload: { path: string; event: { type: string } };
  result: { sha256: string; lines: number; size: number } | null;
}

async function tasks(url: string, query = ""): Promise<Task[]> {
  return (await api<{ tasks: Task[] }>(url, "GET", `/un/tasks?limit=1000${query}`)).body.tasks;
}

Deno.test("quick start: a file dropped into inbox/ gives a succeeded file.metadata task", async () => {
  const example = JSON.parse(await Deno.readTextFile(join(REPO, "un.config.json")));
  // Any free port rather than the example's 4242, which something else may hold.
  await using un = await startUn({ config: { ...example, api: { ...example.api, port: 0 } } });
  await Deno.mkdir(join(un.dir, "inbox"), { recursive: true });
  const written = Date.now();
  await Deno.writeTextFile(join(un.dir, "inbox", "hello.txt"), "hello\nworld\n");
  const task = await eventually(async () => {
    const found = (await tasks(un.url, "&type=file.metadata")).find((t) =>
      t.payload.path.endsWith("hello.txt") && t.state === "succeeded"
    );
    return found;
  }, { timeoutMs: 100 + 1_000 + 2_000, message: "a succeeded file.metadata task for hello.txt" });
  assert.ok(Date.now() - written < 100 + 1_000 + 2_000);
  const one = await api<{ task: Task }>(un.url, "GET", `/un/tasks/${task.id}`);
  assert.equal(one.body.task.result?.lines, 2);
  assert.equal(one.body.task.result?.size, 12);
  assert.match(one.body.task.result?.sha256 ?? "", /^[0-9a-f]{64}$/);

  const cli = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "tasks"],
    env: { UN_URL: un.url, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(cli.stdout);
  assert.equal(cli.code, 0, new TextDecoder().decode(cli.stderr));
  assert.match(out, /file\.metadata/);
  assert.match(out, /succeeded/);
  assert.ok(out.includes(task.id.slice(0, 10)), "un tasks lists the task");
});

Deno.test("files created, changed and deleted while un was stopped give their events on the next start", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un_offline_" });
  const inbox = join(dir, "inbox");
  await Deno.mkdir(inbox);
  await Deno.writeTextFile(join(inbox, "keep.txt"), "v1");
  await Deno.writeTextFile(join(inbox, "gone.txt"), "bye");
  const config = {
    sources: [{ id: "inbox", kind: "fs", path: "./inbox", debounceMs: 30 }],
    hooks: [{ on: "file.*", task: "noop" }],
  };
  try {
    const first = await startUn({ cwd: dir, config });
    await eventually(async () => (await tasks(first.url)).length === 2, {
      timeoutMs: 5_000,
      message: "the first scan",
    });
    await first.stop();

    await Deno.writeTextFile(join(inbox, "new.txt"), "fresh");
    await Deno.writeTextFile(join(inbox, "keep.txt"), "v2 is longer");
    await Deno.remove(join(inbox, "gone.txt"));

    await using second = await startUn({ cwd: dir, config });
    const events = await eventually(async () => {
      const { body } = await api<{ events: Array<{ type: string; subject: string }> }>(
        second.url,
        "GET",
        "/un/events/history?type=file.*&limit=100",
      );
      const seen = body.events.map((e) => `${e.type} ${e.subject}`);
      return seen.length >= 5 ? seen : undefined;
    }, { timeoutMs: 5_000, message: "the offline changes" });
    assert.deepEqual(events.slice(2).sort(), [
      "file.created new.txt",
      "file.deleted gone.txt",
      "file.modified keep.txt",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("1 000 files written in a burst give exactly one task per file", async () => {
  await using un = await startUn({
    config: {
      sources: [{ id: "drop", kind: "fs", path: "./drop", debounceMs: 50 }],
      hooks: [{ on: "file.created", task: "noop" }],
      workers: { concurrency: 8 },
    },
  });
  const drop = join(un.dir, "drop");
  await Deno.mkdir(drop);
  await Promise.all(
    Array.from({ length: 1_000 }, (_, i) => Deno.writeTextFile(join(drop, `f${i}.txt`), `${i}`)),
  );
  const done = await eventually(async () => {
    const all = await tasks(un.url, "&type=noop");
    return all.length >= 1_000 && all.every((t) => t.state === "succeeded") ? all : undefined;
  }, { timeoutMs: 30_000, message: "1 000 tasks" });
  // Give stragglers (duplicate watch events) time to show up, then count again.
  await new Promise((r) => setTimeout(r, 300));
  const all = await tasks(un.url, "&type=noop");
  assert.equal(all.length, 1_000, `exactly one task per file (first count ${done.length})`);
  const paths = new Set(all.map((t) => t.payload.path));
  assert.equal(paths.size, 1_000);
});
