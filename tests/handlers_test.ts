/**
 * Built-in handlers and loading a project's handlers module, called the way a
 * worker calls them: a real task, a real context, real files, processes and
 * HTTP servers.
 */

import { createHmac } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, type ConfigInput, parseConfig } from "../lib/config.ts";
import { PermanentError } from "../lib/errors.ts";
import type { Json } from "../lib/events.ts";
import { builtinHandlers } from "../lib/handlers/builtin.ts";
import { loadHandlers } from "../lib/handlers/load.ts";
import type { HandlerContext, HandlerMap } from "../lib/handlers/types.ts";
import { silentLogger } from "../lib/log.ts";
import type { Task } from "../lib/tasks.ts";

// ---- helpers -------------------------------------------------------------

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function assertEquals(actual: unknown, expected: unknown, message = ""): void {
  const [a, e] = [JSON.stringify(actual), JSON.stringify(expected)];
  if (a !== e) throw new Error(`${message ? message + ": " : ""}expected ${e}, got ${a}`);
}

/** Runs `fn`, expects it to reject, returns the error. */
async function rejects(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    assert(err instanceof Error, `expected an Error, got ${String(err)}`);
    return err;
  }
  throw new Error("expected a rejection, got a result");
}

let taskCounter = 0;
function makeTask(type: string, payload: Json): Task {
  const now = Date.now();
  return {
    id: `test-task-${++taskCounter}`,
    type,
    queue: "default",
    payload,
    priority: 5,
    sortKey: now,
    score: 0,
    explanation: {
      formula: "",
      priority: 5,
      priorityStepMs: 60_000,
      scoreMs: 0,
      urgencyMs: 0,
      enqueuedAt: now,
      sortKey: now,
      notes: [],
    },
    state: "running",
    attempts: 1,
    maxAttempts: 3,
    progress: 0,
    progressMessage: null,
    result: null,
    error: null,
    dependsOn: [],
    runAt: null,
    deadline: null,
    expiresAt: null,
    timeoutMs: null,
    key: null,
    resources: {},
    createdAt: now,
    enqueuedAt: now,
    startedAt: now,
    finishedAt: null,
    workerId: "w1",
    fence: 1,
    leaseUntil: null,
    correlationId: null,
  };
}

/** A context as a worker builds it, recording what the handler reports. */
function makeContext(attempt = 1) {
  const controller = new AbortController();
  const progress: { fraction: number; message?: string }[] = [];
  const emitted: { type: string; data?: Json }[] = [];
  const ctx: HandlerContext = {
    signal: controller.signal,
    progress(fraction, message) {
      progress.push({ fraction, message });
      return Promise.resolve();
    },
    emit(type, data) {
      emitted.push({ type, data });
    },
    log: silentLogger,
    attempt,
    workerId: "w1",
  };
  return { ctx, controller, progress, emitted };
}

/** Runs a handler by task type on a payload; returns its result as JSON-ish data. */
async function run(
  handlers: HandlerMap,
  type: string,
  payload: Json,
  ctx: HandlerContext = makeContext().ctx,
): Promise<Record<string, Json>> {
  return await handlers[type](makeTask(type, payload), ctx) as Record<string, Json>;
}

function handlersFor(input: ConfigInput = {}, cwd?: string): HandlerMap {
  return builtinHandlers(parseConfig(input), { cwd });
}

async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

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

// ---- noop, sleep -----------------------------------------------------------

Deno.test("noop returns its payload", async () => {
  const payload = { hello: "world", n: [1, 2, 3] };
  assertEquals(await run(handlersFor(), "noop", payload), payload);
});

Deno.test("sleep resolves after ms with { slept }", async () => {
  const started = performance.now();
  assertEquals(await run(handlersFor(), "sleep", { ms: 60 }), { slept: 60 });
  assert(performance.now() - started >= 55, "sleep returned early");
});

Deno.test("sleep rejects a bad ms permanently, naming the field and value", async () => {
  const handlers = handlersFor();
  for (const ms of [-1, 86_400_001, "10"]) {
    const err = await rejects(() => run(handlers, "sleep", { ms }));
    assert(err instanceof PermanentError, `ms=${ms}: expected PermanentError, got ${err.name}`);
    assert(err.message.includes("payload.ms"), `message names the field: ${err.message}`);
    assert(err.message.includes(JSON.stringify(ms)), `message names the value: ${err.message}`);
  }
  const missing = await rejects(() => run(handlers, "sleep", {}));
  assert(
    missing instanceof PermanentError && missing.message.includes("payload.ms"),
    missing.message,
  );
});

Deno.test("sleep ends within 50 ms of a cancel, with the cancel's reason", async () => {
  const { ctx, controller } = makeContext();
  const running = run(handlersFor(), "sleep", { ms: 60_000 }, ctx);
  await new Promise((r) => setTimeout(r, 20));
  const reason = new Error("cancelled by user");
  const cancelledAt = performance.now();
  controller.abort(reason);
  const err = await rejects(() => running);
  const took = performance.now() - cancelledAt;
  assert(err === reason, `rejects with the signal's reason, got ${err.message}`);
  assert(took < 50, `cancel took ${took.toFixed(1)}ms`);
});

// ---- file.metadata -----------------------------------------------------------

Deno.test("file.metadata describes text, empty, binary and named files", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "un-meta-" });
  try {
    const handlers = handlersFor({}, dir);

    await t.step("text with a final unterminated line", async () => {
      const path = join(dir, "notes.md");
      const text = "one\ntwo\nthree";
      await Deno.writeTextFile(path, text);
      const meta = await run(handlers, "file.metadata", { path });
      assertEquals(meta.path, path);
      assertEquals(meta.size, 13);
      assertEquals(meta.sha256, await sha256Hex(new TextEncoder().encode(text)));
      assertEquals(meta.lines, 3);
      assertEquals(meta.binary, false);
      assertEquals(meta.language, "Markdown");
      const mtime = (await Deno.stat(path)).mtime!.toISOString();
      assertEquals(meta.mtime, mtime);
    });

    await t.step("newline-terminated lines, path relative to cwd, .ts is TypeScript", async () => {
      await Deno.writeTextFile(join(dir, "main.ts"), "const a = 1;\nconsole.log(a);\n");
      const meta = await run(handlers, "file.metadata", { path: "main.ts" });
      assertEquals(meta.path, join(dir, "main.ts"));
      assertEquals(meta.lines, 2);
      assertEquals(meta.language, "TypeScript");
    });

    await t.step("empty file has 0 lines and the empty hash", async () => {
      await Deno.writeTextFile(join(dir, "empty.txt"), "");
      const meta = await run(handlers, "file.metadata", { path: "empty.txt" });
      assertEquals(meta.size, 0);
      assertEquals(meta.lines, 0);
      assertEquals(
        meta.sha256,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      );
    });

    await t.step("binary file: lines null, binary true", async () => {
      const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0a, 0x00, 0x0a, 0x01]);
      await Deno.writeFile(join(dir, "image.bin"), bytes);
      const meta = await run(handlers, "file.metadata", { path: "image.bin" });
      assertEquals(meta.binary, true);
      assertEquals(meta.lines, null);
      assertEquals(meta.size, 8);
      assertEquals(meta.sha256, await sha256Hex(bytes));
    });

    await t.step("Dockerfile and Makefile by name; unknown names are null", async () => {
      for (
        const [name, language] of [["Dockerfile", "Dockerfile"], ["Makefile", "Makefile"], [
          "data.unknownext",
          null,
        ]] as const
      ) {
        await Deno.writeTextFile(join(dir, name), "x\n");
        const meta = await run(handlers, "file.metadata", { path: name });
        assertEquals(meta.language, language, name);
      }
    });

    await t.step("a deleted file fails permanently", async () => {
      const err = await rejects(() =>
        run(handlers, "file.metadata", { path: join(dir, "gone.txt") })
      );
      assert(err instanceof PermanentError, `expected PermanentError, got ${err.name}`);
      assert(err.message.includes("no longer exists"), err.message);
      assert(err.message.includes("gone.txt"), err.message);
    });

    await t.step("a directory or a missing path field fails permanently", async () => {
      const onDir = await rejects(() => run(handlers, "file.metadata", { path: dir }));
      assert(onDir instanceof PermanentError, onDir.message);
      const noPath = await rejects(() => run(handlers, "file.metadata", { file: "x" }));
      assert(
        noPath instanceof PermanentError && noPath.message.includes("payload.path"),
        noPath.message,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file.metadata streams a big file with progress and stops on cancel", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-meta-big-" });
  try {
    const path = join(dir, "big.log");
    const line = new TextEncoder().encode("x".repeat(1023) + "\n");
    const content = new Uint8Array(20 * 1024 * 1024);
    for (let i = 0; i < content.length; i += line.length) content.set(line, i);
    await Deno.writeFile(path, content);
    const handlers = handlersFor();

    const { ctx, progress } = makeContext();
    const meta = await run(handlers, "file.metadata", { path }, ctx);
    assertEquals(meta.size, content.length);
    assertEquals(meta.lines, 20 * 1024);
    assertEquals(meta.sha256, await sha256Hex(content));
    assertEquals(progress.length, 2, "one report per 8 MiB of 20 MiB");
    assert(progress[0].fraction > 0.39 && progress[0].fraction < 0.41, JSON.stringify(progress));
    assert(progress[0].message?.includes("MiB"), JSON.stringify(progress));

    const cancelled = makeContext();
    const reason = new Error("cancelled");
    cancelled.ctx.progress = () => {
      cancelled.controller.abort(reason);
      return Promise.resolve();
    };
    const err = await rejects(() => run(handlers, "file.metadata", { path }, cancelled.ctx));
    assert(err === reason, `stops with the cancel's reason, got ${err.message}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- exec ------------------------------------------------------------------

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
    assertEquals(result.code, 0);
    assertEquals(result.json, [hostile, "--n=3"]);
    assertEquals(result.stdout, JSON.stringify([hostile, "--n=3"]) + "\n");
    let created = true;
    await Deno.stat(marker).catch(() => (created = false));
    assert(!created, "the value ran as a command");
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
  assertEquals(catted.stdout, JSON.stringify(payload));
  assertEquals(catted.json, payload);

  const { ctx } = makeContext(2);
  const task = makeTask("exec", { command: "env" });
  const result = await handlers.exec(task, ctx) as Record<string, Json>;
  assertEquals(result.json, [task.id, "exec", "2", "hi"]);
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
  assert(!(plain instanceof PermanentError), "a failed run is retryable");
  assert(plain.message.includes("exited with code 1"), plain.message);

  const err = await rejects(() => run(handlers, "exec", { command: "fail" }));
  assert(!(err instanceof PermanentError), "a failed run is retryable");
  assert(err.message.includes("code 3"), err.message);
  assert(err.message.includes("disk full"), err.message);
});

Deno.test("exec refuses unknown commands and unfilled placeholders, permanently", async () => {
  const handlers = handlersFor({
    exec: { commands: { echo: { command: ["echo", "{what}"] }, date: { command: ["date"] } } },
  });
  const unknown = await rejects(() => run(handlers, "exec", { command: "rm" }));
  assert(unknown instanceof PermanentError, unknown.name);
  assert(unknown.message.includes('"rm"'), unknown.message);
  assert(unknown.message.includes('"echo"') && unknown.message.includes('"date"'), unknown.message);

  const missing = await rejects(() => run(handlers, "exec", { command: "echo", vars: {} }));
  assert(missing instanceof PermanentError, missing.name);
  assert(missing.message.includes("{what}"), missing.message);

  // An argv in the payload is not a command: only names from the config run.
  const argv = await rejects(() => run(handlers, "exec", { command: ["echo", "hi"] }));
  assert(argv instanceof PermanentError && argv.message.includes("payload.command"), argv.message);

  const noProgram = handlersFor({ exec: { commands: { x: { command: ["/no/such/program"] } } } });
  const notFound = await rejects(() => run(noProgram, "exec", { command: "x" }));
  assert(notFound instanceof PermanentError, `${notFound.name}: ${notFound.message}`);
});

Deno.test("exec truncates output at 64 KiB and says so", async () => {
  const handlers = handlersFor({
    exec: {
      commands: { big: { command: [DENO, "eval", "console.log('x'.repeat(200_000))"] } },
    },
  });
  const result = await run(handlers, "exec", { command: "big" });
  assertEquals(result.code, 0);
  assertEquals((result.stdout as string).length, 64 * 1024);
  assertEquals(result.truncated, true);
  assertEquals(result.json, undefined);
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
    assert(grandchild > 0 && await alive(grandchild), "the command did not start its child");
    const reason = new Error("cancelled");
    const cancelledAt = performance.now();
    controller.abort(reason);
    const err = await rejects(() => running);
    const took = performance.now() - cancelledAt;
    assert(err === reason, `rejects with the cancel's reason, got ${err.message}`);
    assert(took < 1_000, `cancel took ${took.toFixed(0)}ms`);
    for (let i = 0; i < 40 && await alive(grandchild); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    assert(!await alive(grandchild), "the grandchild survived the cancel");
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
  assert(took >= 1_900 && took < 4_000, `SIGKILL came after ${took.toFixed(0)}ms`);
});

Deno.test("exec: the command's timeoutMs kills it with a retryable timeout error", async () => {
  const handlers = handlersFor({
    exec: { commands: { slow: { command: ["sleep", "30"], timeoutMs: 100 } } },
  });
  const started = performance.now();
  const err = await rejects(() => run(handlers, "exec", { command: "slow" }));
  assert(!(err instanceof PermanentError), "a timeout is retryable");
  assert(err.message.includes("timed out after 100ms"), err.message);
  assert(performance.now() - started < 1_500, "timeout took too long");
});

// ---- http ------------------------------------------------------------------

interface Received {
  method: string;
  path: string;
  body: string;
  signature: string | null;
  taskId: string | null;
  contentType: string | null;
}

/** A real HTTP server on 127.0.0.1:0 that records requests and answers by path. */
function startServer() {
  const received: Received[] = [];
  // Requests to /slow wait here until the test closes the server.
  const held: (() => void)[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const url = new URL(request.url);
      received.push({
        method: request.method,
        path: url.pathname,
        body: await request.text(),
        signature: request.headers.get("x-un-signature-256"),
        taskId: request.headers.get("x-un-task-id"),
        contentType: request.headers.get("content-type"),
      });
      if (url.pathname === "/slow") {
        await new Promise<void>((resolve) => held.push(resolve));
        return new Response("late");
      }
      const status = Number(url.pathname.slice(1)) || 200;
      return new Response(
        status === 200 ? "x".repeat(Number(url.searchParams.get("size") ?? 2)) : `status ${status}`,
        {
          status,
          headers: { "content-type": "text/plain", "x-other": "dropped", etag: '"v1"' },
        },
      );
    },
  );
  const close = async () => {
    held.forEach((release) => release());
    await server.shutdown();
  };
  return { close, received, base: `http://127.0.0.1:${server.addr.port}` };
}

Deno.test("http delivers a signed JSON request and returns the response", async () => {
  const { close, received, base } = startServer();
  try {
    const secret = "webhook-secret-1";
    const handlers = handlersFor({ http: { signingSecret: secret } });
    const body = { event: "file.created", path: "docs/a.md" };
    const task = makeTask("http", {
      url: `${base}/ok`,
      body,
      headers: { "x-un-signature-256": "forged" },
    });
    const result = await handlers.http(task, makeContext().ctx) as Record<string, Json>;
    assertEquals(result.status, 200);
    assertEquals(result.body, "xx");
    assertEquals(result.headers, {
      "content-type": "text/plain",
      "content-length": "2",
      etag: '"v1"',
    });

    const got = received[0];
    assertEquals(got.method, "POST");
    assertEquals(JSON.parse(got.body), body);
    assertEquals(got.contentType, "application/json");
    assertEquals(got.taskId, task.id);
    const expected = "sha256=" + createHmac("sha256", secret).update(got.body).digest("hex");
    assertEquals(got.signature, expected, "signature is the HMAC of the body received");

    await run(handlers, "http", { url: `${base}/ok` });
    assertEquals(received[1].method, "GET");
    assertEquals(received[1].body, "");

    const unsigned = await run(handlersFor(), "http", {
      url: `${base}/ok`,
      method: "PUT",
      body: [1],
    });
    assertEquals(unsigned.status, 200);
    assertEquals(received[2].signature, null, "no secret, no signature");
    assertEquals(received[2].body, "[1]");
  } finally {
    await close();
  }
});

Deno.test("http: 4xx fails permanently; 408, 429, 5xx and network errors are retryable", async () => {
  const { close, base } = startServer();
  const handlers = handlersFor();
  try {
    for (const status of [400, 401, 404, 410, 422]) {
      const err = await rejects(() => run(handlers, "http", { url: `${base}/${status}` }));
      assert(err instanceof PermanentError, `${status} should be permanent: ${err.message}`);
      assert(err.message.includes(String(status)), err.message);
    }
    for (const status of [408, 429, 500, 502, 503]) {
      const err = await rejects(() => run(handlers, "http", { url: `${base}/${status}` }));
      assert(!(err instanceof PermanentError), `${status} should be retryable`);
      assert(err.message.includes(`answered ${status}`), err.message);
    }
    const big = await run(handlers, "http", { url: `${base}/ok?size=100000` });
    assertEquals((big.body as string).length, 64 * 1024);
    assertEquals(big.truncated, true);
  } finally {
    await close();
  }
  // The server is gone: connection refused.
  const err = await rejects(() => run(handlers, "http", { url: `${base}/ok` }));
  assert(!(err instanceof PermanentError), "a network error is retryable");
  assert(err.message.includes("failed"), err.message);

  const bad = await rejects(() => run(handlers, "http", { url: "ftp://example.com/x" }));
  assert(bad instanceof PermanentError && bad.message.includes("payload.url"), bad.message);
});

Deno.test("http honours cancel and its own timeout", async () => {
  const { close, base } = startServer();
  try {
    const { ctx, controller } = makeContext();
    const running = run(handlersFor(), "http", { url: `${base}/slow` }, ctx);
    await new Promise((r) => setTimeout(r, 100));
    const reason = new Error("cancelled");
    const cancelledAt = performance.now();
    controller.abort(reason);
    const err = await rejects(() => running);
    assert(err === reason, `rejects with the cancel's reason, got ${err.message}`);
    assert(performance.now() - cancelledAt < 100, "cancel was slow");

    const timedOut = await rejects(() =>
      run(handlersFor({ http: { timeoutMs: 100 } }), "http", { url: `${base}/slow` })
    );
    assert(!(timedOut instanceof PermanentError), "a timeout is retryable");
    assert(timedOut.message.includes("timed out after 100ms"), timedOut.message);
  } finally {
    await close();
  }
});

// ---- loading a handlers module -------------------------------------------------

const MOD_URL = new URL("../mod.ts", import.meta.url).href;

Deno.test("loadHandlers adds a project's module to the built-ins", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "un-load-" });
  try {
    await t.step("default export; a module handler replaces a built-in", async () => {
      await Deno.writeTextFile(
        join(dir, "handlers.ts"),
        `import { defineHandler } from "${MOD_URL}";
export default {
  "greet": defineHandler<{ name: string }, string>((task) => "hello " + task.payload.name),
  "noop": () => "replaced",
};`,
      );
      const handlers = await loadHandlers(parseConfig({ handlers: "./handlers.ts" }), {
        cwd: dir,
      });
      for (const type of ["sleep", "file.metadata", "exec", "http"]) {
        assert(typeof handlers[type] === "function", `built-in ${type} is there`);
      }
      assertEquals(
        await handlers.greet(makeTask("greet", { name: "un" }), makeContext().ctx),
        "hello un",
      );
      assertEquals(await handlers.noop(makeTask("noop", 1), makeContext().ctx), "replaced");
    });

    await t.step("a named export `handlers` works too", async () => {
      await Deno.writeTextFile(
        join(dir, "named.ts"),
        `export const handlers = { "twice": (task: { payload: number }) => task.payload * 2 };`,
      );
      const handlers = await loadHandlers(parseConfig({ handlers: "named.ts" }), { cwd: dir });
      assertEquals(await handlers.twice(makeTask("twice", 21), makeContext().ctx), 42);
    });

    await t.step("no module configured: only the built-ins", async () => {
      const handlers = await loadHandlers(parseConfig({}), { cwd: dir });
      assertEquals(Object.keys(handlers).sort(), [
        "exec",
        "file.metadata",
        "http",
        "noop",
        "sleep",
      ]);
    });

    await t.step("bad modules give errors naming the module and what was found", async () => {
      const cases: [string, string, string][] = [
        ["number.ts", "export default 42;", "got number"],
        [
          "key.ts",
          `export default { ok: () => 1, foo: 1 };`,
          "must export default { [taskType]: handler }, got number at key 'foo'",
        ],
        ["array.ts", "export default [() => 1];", "got an array"],
        ["none.ts", "export const other = 1;", "got only the exports other"],
        ["syntax.ts", "export default {", "failed to load"],
      ];
      for (const [file, source, expected] of cases) {
        await Deno.writeTextFile(join(dir, file), source);
        const err = await rejects(() =>
          loadHandlers(parseConfig({ handlers: `./${file}` }), { cwd: dir })
        );
        assert(err instanceof ConfigError, `${file}: a config problem, got ${err.name}`);
        assert(err.message.includes(`handlers module ./${file}`), err.message);
        assert(err.message.includes(expected), `${file}: ${err.message}`);
      }
      const missing = await rejects(() =>
        loadHandlers(parseConfig({ handlers: "./nope.ts" }), { cwd: dir })
      );
      assert(
        missing.message.includes("./nope.ts") && missing.message.includes("does not exist"),
        missing.message,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the example module's word-count runs with progress", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-example-" });
  try {
    const path = join(dir, "words.txt");
    await Deno.writeTextFile(path, "the quick  brown\nfox\n\njumps\n");
    const handlers = await loadHandlers(parseConfig({ handlers: "examples/handlers.ts" }), {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
    });
    const { ctx, progress } = makeContext();
    const result = await handlers["word-count"](makeTask("word-count", { path }), ctx);
    assertEquals(result, { path, words: 5, lines: 4 });
    assertEquals(progress.at(-1)?.fraction, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
