/**
 * Built-in handlers (noop, sleep, file.metadata) and loading a project's
 * handlers module, called the way a worker calls them: a real task, a real
 * context, real files. `exec` and `http` have files of their own.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, parseConfig } from "../lib/config/load.ts";
import { PermanentError } from "../lib/errors.ts";
import { loadHandlers } from "../lib/handlers/load.ts";
import { handlersFor, makeContext, makeTask, rejects, run } from "./helpers/handlers.ts";

async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---- noop, sleep -----------------------------------------------------------

Deno.test("noop returns its payload", async () => {
  const payload = { hello: "world", n: [1, 2, 3] };
  assert.deepEqual(await run(handlersFor(), "noop", payload), payload);
});

Deno.test("sleep resolves after ms with { slept }", async () => {
  const started = performance.now();
  assert.deepEqual(await run(handlersFor(), "sleep", { ms: 60 }), { slept: 60 });
  assert.ok(performance.now() - started >= 55, "sleep returned early");
});

Deno.test("sleep rejects a bad ms permanently, naming the field and value", async () => {
  const handlers = handlersFor();
  for (const ms of [-1, 86_400_001, "10"]) {
    const err = await rejects(() => run(handlers, "sleep", { ms }));
    assert.ok(err instanceof PermanentError, `ms=${ms}: expected PermanentError, got ${err.name}`);
    assert.ok(err.message.includes("payload.ms"), `message names the field: ${err.message}`);
    assert.ok(err.message.includes(JSON.stringify(ms)), `message names the value: ${err.message}`);
  }
  const missing = await rejects(() => run(handlers, "sleep", {}));
  assert.ok(
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
  assert.ok(err === reason, `rejects with the signal's reason, got ${err.message}`);
  assert.ok(took < 50, `cancel took ${took.toFixed(1)}ms`);
});

// ---- file.metadata -----------------------------------------------------------

Deno.test("file.metadata describes text, empty, binary and named files", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "un-meta-" });
  try {
    // The temp dir is the root of an fs source: file.metadata reads only inside the roots.
    const handlers = handlersFor({ sources: [{ id: "meta", kind: "fs", path: dir }] }, dir);

    await t.step("text with a final unterminated line", async () => {
      const path = join(dir, "notes.md");
      const text = "one\ntwo\nthree";
      await Deno.writeTextFile(path, text);
      const meta = await run(handlers, "file.metadata", { path });
      assert.deepEqual(meta.path, path);
      assert.deepEqual(meta.size, 13);
      assert.deepEqual(meta.sha256, await sha256Hex(new TextEncoder().encode(text)));
      assert.deepEqual(meta.lines, 3);
      assert.deepEqual(meta.binary, false);
      assert.deepEqual(meta.language, "Markdown");
      const mtime = (await Deno.stat(path)).mtime!.toISOString();
      assert.deepEqual(meta.mtime, mtime);
    });

    await t.step("newline-terminated lines, path relative to cwd, .ts is TypeScript", async () => {
      await Deno.writeTextFile(join(dir, "main.ts"), "const a = 1;\nconsole.log(a);\n");
      const meta = await run(handlers, "file.metadata", { path: "main.ts" });
      assert.deepEqual(meta.path, join(dir, "main.ts"));
      assert.deepEqual(meta.lines, 2);
      assert.deepEqual(meta.language, "TypeScript");
    });

    await t.step("empty file has 0 lines and the empty hash", async () => {
      await Deno.writeTextFile(join(dir, "empty.txt"), "");
      const meta = await run(handlers, "file.metadata", { path: "empty.txt" });
      assert.deepEqual(meta.size, 0);
      assert.deepEqual(meta.lines, 0);
      assert.deepEqual(
        meta.sha256,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      );
    });

    await t.step("binary file: lines null, binary true", async () => {
      const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0a, 0x00, 0x0a, 0x01]);
      await Deno.writeFile(join(dir, "image.bin"), bytes);
      const meta = await run(handlers, "file.metadata", { path: "image.bin" });
      assert.deepEqual(meta.binary, true);
      assert.deepEqual(meta.lines, null);
      assert.deepEqual(meta.size, 8);
      assert.deepEqual(meta.sha256, await sha256Hex(bytes));
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
        assert.deepEqual(meta.language, language, name);
      }
    });

    await t.step("a deleted file fails permanently", async () => {
      const err = await rejects(() =>
        run(handlers, "file.metadata", { path: join(dir, "gone.txt") })
      );
      assert.ok(err instanceof PermanentError, `expected PermanentError, got ${err.name}`);
      assert.ok(err.message.includes("no longer exists"), err.message);
      assert.ok(err.message.includes("gone.txt"), err.message);
    });

    await t.step("a directory or a missing path field fails permanently", async () => {
      const onDir = await rejects(() => run(handlers, "file.metadata", { path: dir }));
      assert.ok(onDir instanceof PermanentError, onDir.message);
      const noPath = await rejects(() => run(handlers, "file.metadata", { file: "x" }));
      assert.ok(
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
    const handlers = handlersFor({ files: { allow: [dir] } });

    const { ctx, progress } = makeContext();
    const meta = await run(handlers, "file.metadata", { path }, ctx);
    assert.deepEqual(meta.size, content.length);
    assert.deepEqual(meta.lines, 20 * 1024);
    assert.deepEqual(meta.sha256, await sha256Hex(content));
    assert.deepEqual(progress.length, 2, "one report per 8 MiB of 20 MiB");
    assert.ok(progress[0].fraction > 0.39 && progress[0].fraction < 0.41, JSON.stringify(progress));
    assert.ok(progress[0].message?.includes("MiB"), JSON.stringify(progress));

    const cancelled = makeContext();
    const reason = new Error("cancelled");
    cancelled.ctx.progress = () => {
      cancelled.controller.abort(reason);
      return Promise.resolve();
    };
    const err = await rejects(() => run(handlers, "file.metadata", { path }, cancelled.ctx));
    assert.ok(err === reason, `stops with the cancel's reason, got ${err.message}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
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
        assert.ok(typeof handlers[type] === "function", `built-in ${type} is there`);
      }
      assert.deepEqual(
        await handlers.greet(makeTask("greet", { name: "un" }), makeContext().ctx),
        "hello un",
      );
      assert.deepEqual(await handlers.noop(makeTask("noop", 1), makeContext().ctx), "replaced");
    });

    await t.step("a named export `handlers` works too", async () => {
      await Deno.writeTextFile(
        join(dir, "named.ts"),
        `export const handlers = { "twice": (task: { payload: number }) => task.payload * 2 };`,
      );
      const handlers = await loadHandlers(parseConfig({ handlers: "named.ts" }), { cwd: dir });
      assert.deepEqual(await handlers.twice(makeTask("twice", 21), makeContext().ctx), 42);
    });

    await t.step("no module configured: only the built-ins", async () => {
      const handlers = await loadHandlers(parseConfig({}), { cwd: dir });
      assert.deepEqual(Object.keys(handlers).sort(), [
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
        assert.ok(err instanceof ConfigError, `${file}: a config problem, got ${err.name}`);
        assert.ok(err.message.includes(`handlers module ./${file}`), err.message);
        assert.ok(err.message.includes(expected), `${file}: ${err.message}`);
      }
      const missing = await rejects(() =>
        loadHandlers(parseConfig({ handlers: "./nope.ts" }), { cwd: dir })
      );
      assert.ok(
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
    assert.deepEqual(result, { path, words: 5, lines: 4 });
    assert.deepEqual(progress.at(-1)?.fraction, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
