/**
 * A misspelt config key stops `un start` (exit 2) with one line naming the
 * key and the nearest known one, whether it is in the file (at the top or
 * nested, in a source, a hook, an exec command) or an `UN_*` variable; a
 * source added over the API with a misspelt key is a 400 that suggests the
 * key meant. Real `deno run main.ts start` subprocesses.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { START_FLAGS } from "../cli/start-flags.ts";
import { assertError } from "./helpers/api.ts";
import { api } from "./helpers/http.ts";
import { MAIN, startUn } from "./helpers/un-process.ts";

/** Runs `un start` on a config (and env); it must exit before serving. */
async function startFails(
  config: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "un_typo_" });
  try {
    const file = join(dir, "un.config.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({ api: { port: 0 }, store: { path: join(dir, ".un") }, ...config }),
    );
    const parent = Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("UN_"));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...START_FLAGS, MAIN, "start", "--config", file],
      cwd: dir,
      env: { ...Object.fromEntries(parent), NO_COLOR: "1", ...env },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(stdout, "", "nothing served");
    return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("config typos stop un start with exit 2, naming the key and the one meant", async (t) => {
  const cases: [string, Record<string, unknown>, Record<string, string>, RegExp][] = [
    [
      "a top-level key",
      { wokers: { concurrency: 2 } },
      {},
      /`wokers` is not a key; did you mean `workers`\?/,
    ],
    [
      "a nested key",
      { workers: { concurency: 2 } },
      {},
      /`workers\.concurency` is not a key; did you mean `workers\.concurrency`\?/,
    ],
    [
      "a key under a prefaulted section",
      { api: { cors: { origin: ["https://a.example"] } } },
      {},
      /`api\.cors\.origin` is not a key; did you mean `api\.cors\.origins`\?/,
    ],
    [
      "a key of a source",
      { sources: [{ id: "in", kind: "fs", path: ".", intervall: "5m" }] },
      {},
      /`sources\.0\.intervall` is not a key; did you mean `sources\.0\.interval`\?/,
    ],
    [
      "a key of a hook",
      { hooks: [{ on: "file.*", task: "noop", dealyMs: 5 }] },
      {},
      /`hooks\.0\.dealyMs` is not a key; did you mean `hooks\.0\.delayMs`\?/,
    ],
    [
      "a key of an exec command",
      { exec: { commands: { hi: { command: ["echo"], timeout: 5 } } } },
      {},
      /`exec\.commands\.hi\.timeout` is not a key; did you mean `exec\.commands\.hi\.timeoutMs`\?/,
    ],
    [
      "a key with nothing near: the keys allowed there",
      { workers: { colour: "blue" } },
      {},
      /`workers\.colour` is not a key \(allowed in workers: concurrency, queues, /,
    ],
    [
      "an UN_* variable",
      {},
      { UN_WOKERS_CONCURRENCY: "2" },
      /UN_WOKERS_CONCURRENCY is not a config variable; did you mean UN_WORKERS_CONCURRENCY \(`workers\.concurrency`\)\?/,
    ],
  ];
  for (const [what, config, env, pattern] of cases) {
    await t.step(what, async () => {
      const { code, stderr } = await startFails(config, env);
      assert.equal(code, 2, stderr);
      assert.match(stderr, /^un: invalid config: /);
      assert.match(stderr, pattern);
      assert.equal(stderr.trimEnd().split("\n").length, 1, `one line, got:\n${stderr}`);
    });
  }
});

Deno.test("a source added with a misspelt key is a 400 suggesting the key meant", async () => {
  await using un = await startUn();
  const res = await api(un.url, "POST", "/un/sources/add", {
    kind: "fs",
    path: un.dir,
    exlude: ["*.tmp"],
  });
  const body = assertError(res, 400, "exlude");
  assert.match(body.error.message, /"exlude" \(did you mean "exclude"\?\)/);
  assert.deepEqual(body.error.details.suggestions, { exlude: "exclude" });
  // Nested in the source's hooks: the schema itself is strict.
  const nested = await api(un.url, "POST", "/un/sources/add", {
    kind: "fs",
    path: un.dir,
    hooks: [{ task: "noop", priorty: 3 }],
  });
  const problem = assertError(nested, 400);
  assert.match(
    problem.error.message,
    /`hooks\.0\.priorty` is not a key; did you mean `hooks\.0\.priority`\?/,
  );
});
