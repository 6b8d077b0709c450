/**
 * The `exec` handler, called the way a worker calls it: real commands, real
 * processes (placeholders as single argv elements, stdin and env, exit codes,
 * output limits, cancel and timeout killing the whole process group).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { PermanentError } from "../lib/errors.ts";
import type { Json } from "../lib/events/cloud-event.ts";
import { handlersFor, makeContext, makeTask, rejects, run } from "./helpers/handlers.ts";

/** True while a process with this pid exists (and is not a zombie). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

const DENO = Deno.execPath();

const PRINT_ARGS = "console.log(JSON.stringify(Deno.args))";

Deno.test("exec fills placeholders as single argv elements, never through a shell", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-exec-" });
  try {
    const marker = join(dir, "pwned");
    const handlers = handlersFor({
      exec: {
        commands: { args: { command: [DENO, "eval", PRINT_ARGS, "--", "{name}", "--n={n}"] } },
      },
    });
    const hostile = `a b; touch ${marker} && echo $HOME "q"`;
    const result = await run(handlers, "exec", {
      command: "args",
      vars: { name: hostile, n: 3 },
    });
    assert.deepEqual(result.code, 0);
    assert.deepEqual(result.json, [hostile, "--n=3"]);
    assert.deepEqual(result.stdout, JSON.stringify([hostile, "--n=3"]) + "\n");
    let created = true;
    await Deno.stat(marker).catch(() => (created = false));
    assert.ok(!created, "the value ran as a command");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exec passes the payload on stdin and the task in env", async () => {
  const handlers = handlersFor({
    exec: {
      commands: {
        cat: { command: ["cat"] },
        env: {
          command: [
            DENO,
            "eval",
            "console.log(JSON.stringify([Deno.env.get('UN_TASK_ID'), Deno.env.get('UN_TASK_TYPE'), Deno.env.get('UN_ATTEMPT'), Deno.env.get('GREETING')]))",
          ],
          env: { GREETING: "hi" },
        },
      },
    },
  });
  const payload = { command: "cat", vars: { x: "y" } };
  const catted = await run(handlers, "exec", payload);
  assert.deepEqual(catted.stdout, JSON.stringify(payload));
  assert.deepEqual(catted.json, payload);

  const { ctx } = makeContext(2);
  const task = makeTask("exec", { command: "env" });
  const result = await handlers.exec(task, ctx) as Record<string, Json>;
  assert.deepEqual(result.json, [task.id, "exec", "2", "hi"]);
});

Deno.test("exec: a non-zero exit is a retryable error with the code and stderr's end", async () => {
  const handlers = handlersFor({
    exec: {
      commands: {
        false: { command: ["false"] },
        fail: {
          command: [
            DENO,
            "eval",
            "console.error('first'); console.error('disk full'); Deno.exit(3)",
          ],
        },
      },
    },
  });
  const plain = await rejects(() => run(handlers, "exec", { command: "false" }));
  assert.ok(!(plain instanceof PermanentError), "a failed run is retryable");
  assert.ok(plain.message.includes("exited with code 1"), plain.message);

  const err = await rejects(() => run(handlers, "exec", { command: "fail" }));
  assert.ok(!(err instanceof PermanentError), "a failed run is retryable");
  assert.ok(err.message.includes("code 3"), err.message);
  assert.ok(err.message.includes("disk full"), err.message);
});

Deno.test("exec refuses unknown commands and unfilled placeholders, permanently", async () => {
  const handlers = handlersFor({
    exec: { commands: { echo: { command: ["echo", "{what}"] }, date: { command: ["date"] } } },
  });
  const unknown = await rejects(() => run(handlers, "exec", { command: "rm" }));
  assert.ok(unknown instanceof PermanentError, unknown.name);
  assert.ok(unknown.message.includes('"rm"'), unknown.message);
  assert.ok(
    unknown.message.includes('"echo"') && unknown.message.includes('"date"'),
    unknown.message,
  );

  const missing = await rejects(() => run(handlers, "exec", { command: "echo", vars: {} }));
  assert.ok(missing instanceof PermanentError, missing.name);
  assert.ok(missing.message.includes("{what}"), missing.message);

  // An argv in the payload is not a command: only names from the config run.
  const argv = await rejects(() => run(handlers, "exec", { command: ["echo", "hi"] }));
  assert.ok(
    argv instanceof PermanentError && argv.message.includes("payload.command"),
    argv.message,
  );

  const noProgram = handlersFor({ exec: { commands: { x: { command: ["/no/such/program"] } } } });
  const notFound = await rejects(() => run(noProgram, "exec", { command: "x" }));
  assert.ok(notFound instanceof PermanentError, `${notFound.name}: ${notFound.message}`);
});

Deno.test("exec truncates output at 64 KiB and says so", async () => {
  const handlers = handlersFor({
    exec: {
      commands: { big: { command: [DENO, "eval", "console.log('x'.repeat(200_000))"] } },
    },
  });
  const result = await run(handlers, "exec", { command: "big" });
  assert.deepEqual(result.code, 0);
  assert.deepEqual((result.stdout as string).length, 64 * 1024);
  assert.deepEqual(result.truncated, true);
  assert.deepEqual(result.json, undefined);
});

Deno.test("exec: a cancel kills the command and the processes it started", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-exec-tree-" });
  try {
    const pidFile = join(dir, "grandchild.pid");
    const handlers = handlersFor({
      exec: {
        commands: {
          tree: {
            command: [
              DENO,
              "eval",
              // Starts a grandchild, writes its pid, then waits for it.
              "const c = new Deno.Command('sleep', { args: ['30'] }).spawn(); await Deno.writeTextFile(Deno.args[0], String(c.pid)); await c.status;",
              "--",
              "{pidFile}",
            ],
          },
        },
      },
    });
    const { ctx, controller } = makeContext();
    const running = run(handlers, "exec", { command: "tree", vars: { pidFile } }, ctx);
    let grandchild = 0;
    for (let i = 0; i < 200 && !grandchild; i++) {
      await new Promise((r) => setTimeout(r, 25));
      grandchild = Number(await Deno.readTextFile(pidFile).catch(() => "0"));
    }
    assert.ok(grandchild > 0 && await alive(grandchild), "the command did not start its child");
    const reason = new Error("cancelled");
    const cancelledAt = performance.now();
    controller.abort(reason);
    const err = await rejects(() => running);
    const took = performance.now() - cancelledAt;
    assert.ok(err === reason, `rejects with the cancel's reason, got ${err.message}`);
    assert.ok(took < 1_000, `cancel took ${took.toFixed(0)}ms`);
    for (let i = 0; i < 40 && await alive(grandchild); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(!await alive(grandchild), "the grandchild survived the cancel");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exec: a command that ignores SIGTERM is killed after the 2 s grace", async () => {
  const handlers = handlersFor({
    exec: {
      commands: {
        stubborn: {
          command: [
            DENO,
            "eval",
            "Deno.addSignalListener('SIGTERM', () => {}); console.log('ready'); setTimeout(() => {}, 60_000);",
          ],
        },
      },
    },
  });
  const { ctx, controller } = makeContext();
  const running = run(handlers, "exec", { command: "stubborn" }, ctx);
  await new Promise((r) => setTimeout(r, 500));
  const cancelledAt = performance.now();
  controller.abort(new Error("cancelled"));
  await rejects(() => running);
  const took = performance.now() - cancelledAt;
  assert.ok(took >= 1_900 && took < 4_000, `SIGKILL came after ${took.toFixed(0)}ms`);
});

Deno.test("exec: the command's timeoutMs kills it with a retryable timeout error", async () => {
  const handlers = handlersFor({
    exec: { commands: { slow: { command: ["sleep", "30"], timeoutMs: 100 } } },
  });
  const started = performance.now();
  const err = await rejects(() => run(handlers, "exec", { command: "slow" }));
  assert.ok(!(err instanceof PermanentError), "a timeout is retryable");
  assert.ok(err.message.includes("timed out after 100ms"), err.message);
  assert.ok(performance.now() - started < 1_500, "timeout took too long");
});
