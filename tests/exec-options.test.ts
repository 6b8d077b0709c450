/**
 * `exec` placeholders cannot smuggle options or files: a value starting with
 * `-` is refused unless the command sets `allowOptions`, and a placeholder
 * named in `paths` must be a file inside the readable roots and reaches the
 * command as its real absolute path. Black-box against a real `un start` (400
 * at create) and through the handler as a worker calls it (a task made by a
 * hook or a schedule fails permanently at run time).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { PermanentError } from "../lib/errors.ts";
import { handlersFor, rejects, run } from "./helpers/handlers.ts";
import { api } from "./helpers/http.ts";
import { startUn, type UnProcess } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const DENO = Deno.execPath();
/** Prints its arguments as JSON, and the content of the file the first one names, if any. */
const SHOW =
  "let text = null; try { text = Deno.readTextFileSync(Deno.args[0]); } catch {} console.log(JSON.stringify({ args: Deno.args, text }))";

const commands = {
  list: { command: [DENO, "eval", SHOW, "--", "{dir}"] },
  glue: { command: [DENO, "eval", SHOW, "--", "{a}-x"] },
  flags: { command: [DENO, "eval", SHOW, "--", "{dir}"], allowOptions: true },
  show: { command: [DENO, "eval", SHOW, "--", "{file}"], paths: ["file"] },
  "show-in": { command: [DENO, "eval", SHOW, "--", "{file}"], paths: ["file"], cwd: "inbox" },
};

interface Task {
  id: string;
  state: string;
  result: { json: { args: string[]; text: string | null } } | null;
  error: { message: string } | null;
}
interface Answer {
  task: Task;
  error: { code: string; message: string; details: Record<string, unknown> };
}

async function create(un: UnProcess, command: string, vars: Record<string, unknown>) {
  return await api<Answer>(un.url, "POST", "/un/tasks/create", {
    type: "exec",
    payload: { command, vars },
  });
}

async function succeeded(un: UnProcess, id: string): Promise<Task> {
  const task = await eventually(async () => {
    const { body } = await api<{ task: Task }>(un.url, "GET", `/un/tasks/${id}`);
    return ["succeeded", "failed", "dead"].includes(body.task.state) ? body.task : undefined;
  }, { timeoutMs: 15_000, message: `task ${id} to finish` });
  assert.equal(task.state, "succeeded", JSON.stringify(task.error));
  return task;
}

Deno.test("exec at create: option-like values are 400 unless allowOptions; path placeholders must be inside the roots", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un_exec_opts_" });
  try {
    for (const sub of ["inbox", "outside"]) await Deno.mkdir(join(dir, sub));
    await Deno.writeTextFile(join(dir, "inbox", "a.txt"), "in the inbox");
    await Deno.writeTextFile(join(dir, "inbox", "-n.txt"), "a name like an option");
    await Deno.writeTextFile(join(dir, "outside", "secret.txt"), "secret");
    await Deno.symlink(join(dir, "outside", "secret.txt"), join(dir, "inbox", "link.txt"));
    await using un = await startUn({
      cwd: dir,
      config: {
        sources: [{ id: "inbox", kind: "fs", path: "./inbox", emitExisting: false }],
        exec: { commands },
      },
    });

    for (
      const [command, vars, field] of [
        ["list", { dir: "--help" }, "payload.vars.dir"],
        ["list", { dir: "-rf" }, "payload.vars.dir"],
        ["list", { dir: -1 }, "payload.vars.dir"],
        ["glue", { a: "" }, "payload.vars"],
      ] as const
    ) {
      const res = await create(un, command, vars);
      assert.equal(
        res.status,
        400,
        `${command} ${JSON.stringify(vars)}: ${JSON.stringify(res.body)}`,
      );
      assert.equal(res.body.error.code, "invalid_request");
      assert.ok(res.body.error.message.startsWith(`${field}`), res.body.error.message);
      assert.match(res.body.error.message, /allowOptions: true/);
    }

    // The same value for a command that allows options: accepted, and it runs.
    const flags = await create(un, "flags", { dir: "--help" });
    assert.equal(flags.status, 201, JSON.stringify(flags.body));
    assert.deepEqual((await succeeded(un, flags.body.task.id)).result?.json.args, ["--help"]);
    // A plain value and a var no placeholder uses (it only reaches stdin) are fine.
    const plain = await create(un, "list", { dir: "docs", unused: "--help" });
    assert.equal(plain.status, 201, JSON.stringify(plain.body));
    assert.deepEqual((await succeeded(un, plain.body.task.id)).result?.json.args, ["docs"]);

    // Path placeholders: outside the roots, by any road, is 400 naming the field.
    for (
      const file of [
        "/etc/passwd",
        "outside/secret.txt",
        "inbox/../outside/secret.txt",
        "inbox/link.txt",
        "--help",
      ]
    ) {
      const res = await create(un, "show", { file });
      assert.equal(res.status, 400, `${file}: ${JSON.stringify(res.body)}`);
      assert.match(
        res.body.error.message,
        /^payload\.vars\.file: .* is outside the readable roots/,
      );
      assert.equal(res.body.error.details.field, "payload.vars.file");
    }

    // Inside the root: the command gets the real absolute path.
    const real = await Deno.realPath(join(dir, "inbox", "a.txt"));
    const shown = await create(un, "show", { file: "inbox/a.txt" });
    assert.equal(shown.status, 201, JSON.stringify(shown.body));
    assert.deepEqual((await succeeded(un, shown.body.task.id)).result?.json, {
      args: [real],
      text: "in the inbox",
    });
    // Relative to the command's cwd; a file named like an option is passed as a path, not an option.
    const dashed = await create(un, "show-in", { file: "-n.txt" });
    assert.equal(dashed.status, 201, JSON.stringify(dashed.body));
    assert.deepEqual((await succeeded(un, dashed.body.task.id)).result?.json, {
      args: [await Deno.realPath(join(dir, "inbox", "-n.txt"))],
      text: "a name like an option",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exec at run time: option-like values and paths outside the roots fail permanently", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "un_exec_run_" }));
  try {
    await Deno.mkdir(join(dir, "inbox"));
    await Deno.writeTextFile(join(dir, "inbox", "a.txt"), "ok");
    const handlers = handlersFor({
      sources: [{ id: "inbox", kind: "fs", path: join(dir, "inbox") }],
      exec: { commands },
    }, dir);
    for (
      const [command, vars, expected] of [
        ["list", { dir: "--help" }, /payload\.vars\.dir: "--help" starts with "-"/],
        ["glue", { a: "" }, /would become the option "-x"/],
        ["show", { file: "/etc/passwd" }, /payload\.vars\.file: \/etc\/passwd is outside/],
      ] as const
    ) {
      const err = await rejects(() => run(handlers, "exec", { command, vars }));
      assert.ok(err instanceof PermanentError, `${command}: ${err.name}: ${err.message}`);
      assert.match(err.message, new RegExp(`^exec "${command}": `));
      assert.match(err.message, expected);
    }
    const shown = await run(handlers, "exec", { command: "show", vars: { file: "inbox/a.txt" } });
    assert.deepEqual(shown.json, { args: [join(dir, "inbox", "a.txt")], text: "ok" });
    const flags = await run(handlers, "exec", { command: "flags", vars: { dir: "-v" } });
    assert.deepEqual(flags.json, { args: ["-v"], text: null });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
