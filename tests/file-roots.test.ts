/**
 * `file.metadata` reads only inside the readable roots (fs source roots and
 * `files.allow`), black-box against a real `un start` with real files,
 * directories and symlinks: refusals at task create (400 naming the field),
 * and at run time for tasks made by hooks (a symlink whose target is outside).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseConfig } from "../lib/config/load.ts";
import { ValidationError } from "../lib/errors.ts";
import { checkReadablePath, fileRoots } from "../lib/safety/files.ts";
import { api } from "./helpers/http.ts";
import { startUn, type UnProcess } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

interface Task {
  id: string;
  state: string;
  attempts: number;
  payload: { path: string };
  result: { path: string; sha256: string; size: number } | null;
  error: { message: string; permanent?: boolean } | null;
}
interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}

/** A temp dir with `inbox/` (fs source root), `allowed/` (files.allow) and `outside/`. */
async function layout(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "un_roots_" });
  for (const sub of ["inbox", "allowed", "outside", "inbox-evil"]) {
    await Deno.mkdir(join(dir, sub));
  }
  await Deno.writeTextFile(join(dir, "outside", "secret.txt"), "top secret\n");
  await Deno.writeTextFile(join(dir, "inbox-evil", "x.txt"), "evil\n");
  await Deno.writeTextFile(join(dir, "allowed", "ok.txt"), "allowed\n");
  return dir;
}

async function create(un: UnProcess, body: unknown) {
  return await api<ErrorBody & { task: Task }>(un.url, "POST", "/un/tasks/create", body);
}

async function settled(un: UnProcess, id: string): Promise<Task> {
  return await eventually(async () => {
    const { body } = await api<{ task: Task }>(un.url, "GET", `/un/tasks/${id}`);
    return ["succeeded", "dead", "failed"].includes(body.task.state) ? body.task : undefined;
  }, { timeoutMs: 10_000, message: `task ${id} to finish` });
}

Deno.test("file.metadata at create: paths outside the roots are 400 naming the field; inside an fs root or files.allow they work", async () => {
  const dir = await layout();
  try {
    await Deno.writeTextFile(join(dir, "inbox", "ok.txt"), "one\ntwo\n");
    await Deno.symlink(join(dir, "outside", "secret.txt"), join(dir, "inbox", "link.txt"));
    await Deno.symlink(join(dir, "outside"), join(dir, "inbox", "door"));
    await Deno.symlink(join(dir, "inbox", "ok.txt"), join(dir, "outside", "back.txt"));
    await using un = await startUn({
      cwd: dir,
      config: {
        sources: [{ id: "inbox", kind: "fs", path: "./inbox", emitExisting: false }],
        files: { allow: ["./allowed"] },
      },
    });

    const refused = [
      "/etc/passwd",
      join(dir, "outside", "secret.txt"),
      "inbox/../outside/secret.txt",
      `${dir}/inbox/../outside/secret.txt`,
      "inbox-evil/x.txt",
      "inbox/link.txt",
      "inbox/door/secret.txt",
      "outside/back.txt", // points inside, but the path asked for is outside: it is the target that counts
    ];
    for (const path of refused.slice(0, -1)) {
      const res = await create(un, { type: "file.metadata", payload: { path } });
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, "invalid_request");
      assert.match(res.body.error.message, /^payload\.path: /, path);
      assert.ok(res.body.error.message.includes(path), res.body.error.message);
      assert.match(res.body.error.message, /outside the readable roots .*files\.allow/);
      assert.equal(res.body.error.details.field, "payload.path");
    }
    // A symlink outside whose target is inside is fine: what is read is inside.
    const back = await create(un, { type: "file.metadata", payload: { path: refused.at(-1) } });
    assert.equal(back.status, 201, JSON.stringify(back.body));

    // In a batch, the field names the task.
    const batch = await create(un, {
      tasks: [
        { type: "file.metadata", payload: { path: "inbox/ok.txt" } },
        { type: "file.metadata", payload: { path: "/etc/passwd" } },
      ],
    });
    assert.equal(batch.status, 400);
    assert.match(batch.body.error.message, /^tasks\[1\]\.payload\.path: \/etc\/passwd/);

    // Inside the fs source root, by relative or absolute path; inside files.allow.
    for (const [path, size] of [["inbox/ok.txt", 8], [join(dir, "allowed", "ok.txt"), 8]]) {
      const res = await create(un, { type: "file.metadata", payload: { path } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const task = await settled(un, res.body.task.id);
      assert.equal(task.state, "succeeded", JSON.stringify(task.error));
      assert.equal(task.result?.size, size);
    }
    const backTask = await settled(un, back.body.task.id);
    assert.equal(backTask.state, "succeeded", JSON.stringify(backTask.error));
    assert.equal(backTask.result?.path, await Deno.realPath(join(dir, "inbox", "ok.txt")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file.metadata at run time: a hook's task whose file became a symlink to outside fails permanently", async () => {
  const dir = await layout();
  try {
    await using un = await startUn({
      cwd: dir,
      config: {
        sources: [{ id: "inbox", kind: "fs", path: "./inbox", debounceMs: 30 }],
        // Delayed, so the file can be swapped for a symlink between the event and the run.
        hooks: [{ on: "file.created", task: "file.metadata", delayMs: 1_500 }],
      },
    });
    const plain = join(dir, "inbox", "plain.txt");
    const swapped = join(dir, "inbox", "swapped.txt");
    await Deno.writeTextFile(plain, "fine\n");
    await Deno.writeTextFile(swapped, "harmless for now\n");
    const tasks = await eventually(async () => {
      const { body } = await api<{ tasks: Task[] }>(
        un.url,
        "GET",
        "/un/tasks?type=file.metadata&limit=100",
      );
      const byName = (name: string) => body.tasks.find((t) => t.payload.path.endsWith(name));
      const [a, b] = [byName("plain.txt"), byName("swapped.txt")];
      return a && b ? { plain: a, swapped: b } : undefined;
    }, { timeoutMs: 5_000, message: "the hook's two tasks" });
    assert.equal(tasks.swapped.state, "scheduled", "the task waits for its delay");
    await Deno.remove(swapped);
    await Deno.symlink(join(dir, "outside", "secret.txt"), swapped);

    const ok = await settled(un, tasks.plain.id);
    assert.equal(ok.state, "succeeded", JSON.stringify(ok.error));
    const refused = await settled(un, tasks.swapped.id);
    assert.equal(refused.state, "failed", `no retry: ${JSON.stringify(refused)}`);
    assert.equal(refused.attempts, 1);
    assert.equal(refused.error?.permanent, true);
    assert.match(refused.error?.message ?? "", /payload\.path: .*swapped\.txt is outside/);
    assert.equal(refused.result, null, "nothing of the secret file comes back");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkReadablePath: prefixes, .. after a symlink, files not created yet, dangling symlinks", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "un_roots_unit_" }));
  try {
    const root = join(dir, "data", "inbox");
    await Deno.mkdir(join(root, "sub"), { recursive: true });
    await Deno.mkdir(join(dir, "data", "inbox-evil"));
    await Deno.mkdir(join(dir, "elsewhere", "deep"), { recursive: true });
    await Deno.symlink(join(dir, "elsewhere", "deep"), join(root, "hop"));
    await Deno.symlink(join(dir, "nowhere", "x"), join(root, "dangling"));
    const refuses = async (path: string) =>
      await assert.rejects(checkReadablePath(path, [root], "f"), (err) => {
        assert.ok(err instanceof ValidationError, String(err));
        assert.ok(err.message.startsWith(`f: ${path}`), err.message);
        return true;
      });

    assert.equal(await checkReadablePath(root, [root], "f"), root);
    assert.equal(
      await checkReadablePath(join(root, "new.txt"), [root], "f"),
      join(root, "new.txt"),
    );
    assert.equal(
      await checkReadablePath(join(root, "sub", "a", "b.txt"), [root], "f"),
      join(root, "sub", "a", "b.txt"),
      "a file (and directories) not created yet, under a root",
    );
    await refuses(join(dir, "data", "inbox-evil", "x"));
    await refuses(join(dir, "data"));
    // The kernel applies `..` after following hop: this is elsewhere/x, not inbox/x.
    await refuses(`${root}/hop/../x`);
    await refuses(`${root}/missing/../hop/../x`);
    assert.equal(
      await checkReadablePath(`${root}/missing/../sub/./y`, [root], "f"),
      join(root, "sub", "y"),
    );
    await refuses(join(root, "hop", "file"));
    await refuses(join(root, "dangling"));
    await refuses(join(root, "nope", "..", "..", "inbox-evil"));
    await refuses("/etc/passwd");

    // Roots of a config: fs sources and files.allow, resolved against cwd.
    const config = parseConfig({
      sources: [
        { id: "in", kind: "fs", path: "./inbox" },
        { id: "feed", kind: "feed", url: "https://example.com/feed.xml" },
      ],
      files: { allow: ["/srv/shared", "rel"] },
    });
    assert.deepEqual(fileRoots(config, "/work"), ["/work/inbox", "/srv/shared", "/work/rel"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
