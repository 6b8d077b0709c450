/**
 * `UN_*` variables onto the config: every variable sets the key its name
 * spells (and each key's default passes through it unchanged), values are
 * JSON where they parse and strings where the key takes strings, a variable
 * overrides the file and leaves the keys beside it alone, a wrong value is an
 * error naming the key, and the variables that are not config keys are left
 * alone.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { applyEnv, ConfigError, loadConfig, parseConfig } from "../lib/config/load.ts";
import { ENV_PATHS } from "../lib/config/env.ts";
import { valueAt } from "../lib/validate.ts";

/** `["workers", "backoffBaseMs"]` → `UN_WORKERS_BACKOFF_BASE_MS`, as the docs say. */
const envName = (path: readonly string[]) =>
  "UN_" + path.map((key) => key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()).join("_");

/** Loads a config file holding `file` with `env` as the environment. */
async function load(file: Record<string, unknown>, env: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "un-env-" });
  try {
    const path = join(dir, "un.config.json");
    await Deno.writeTextFile(path, JSON.stringify(file));
    return (await loadConfig({ path, env })).config;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("env: every UN_* variable sets the key its name spells", () => {
  assert.ok(ENV_PATHS.size > 40, `only ${ENV_PATHS.size} variables`);
  for (const [name, path] of ENV_PATHS) {
    assert.equal(name, envName(path), `${path.join(".")}`);
    const raw: Record<string, unknown> = {};
    assert.deepEqual(applyEnv(raw, { [name]: '"probe"' }), [], name);
    assert.equal(valueAt(raw, [...path]), "probe", `${name} sets ${path.join(".")}`);
  }
  for (
    const [name, key] of [
      ["UN_API_PORT", "api.port"],
      ["UN_WORKERS_CONCURRENCY", "workers.concurrency"],
      ["UN_REDIS_URL", "redis.url"],
      ["UN_API_CORS_ORIGINS", "api.cors.origins"],
      ["UN_SCHEDULER_TICK_MS", "scheduler.tickMs"],
      ["UN_SOURCES", "sources"],
    ]
  ) {
    assert.equal(ENV_PATHS.get(name)?.join("."), key, name);
  }
});

Deno.test("env: each key's default passes through its variable unchanged", () => {
  const defaults = parseConfig({});
  let checked = 0;
  for (const [name, path] of ENV_PATHS) {
    const value = valueAt(defaults, [...path]);
    if (value === undefined) continue; // no default (api.token, redis.url, ...)
    const raw: Record<string, unknown> = {};
    const text = typeof value === "string" ? value : JSON.stringify(value);
    assert.deepEqual(applyEnv(raw, { [name]: text }), [], name);
    assert.deepEqual(valueAt(parseConfig(raw), [...path]), value, `${name}=${text}`);
    checked++;
  }
  assert.ok(checked > 40, `only ${checked} defaults checked`);
});

Deno.test("env: values are JSON where they parse, strings where the key takes strings", async () => {
  const config = await load({}, {
    UN_WORKERS_CONCURRENCY: "8",
    UN_API_PORT: "0",
    UN_API_INSPECT: "false",
    UN_WORKERS_QUEUES: '["mail","*"]',
    UN_API_TOKEN: "1234567890123456", // digits, still a token
    UN_STORE_PATH: "2024",
    UN_REDIS_URL: "redis://127.0.0.1:6379",
    UN_LOG_LEVEL: "debug",
    UN_SOURCES: '[{"id":"in","kind":"fs","path":"./in"}]',
  });
  assert.equal(config.workers.concurrency, 8);
  assert.equal(config.api.port, 0);
  assert.equal(config.api.inspect, false);
  assert.deepEqual(config.workers.queues, ["mail", "*"]);
  assert.equal(config.api.token, "1234567890123456");
  assert.equal(config.store.path, "2024");
  assert.equal(config.redis.url, "redis://127.0.0.1:6379");
  assert.equal(config.log.level, "debug");
  assert.deepEqual(config.sources.map((s) => [s.id, s.kind]), [["in", "fs"]]);
});

Deno.test("env: a variable overrides the file's key and leaves the keys beside it", async () => {
  const config = await load(
    { workers: { concurrency: 2, maxAttempts: 7 }, api: { port: 5000 } },
    { UN_WORKERS_CONCURRENCY: "8" },
  );
  assert.equal(config.workers.concurrency, 8);
  assert.equal(config.workers.maxAttempts, 7);
  assert.equal(config.api.port, 5000);
});

Deno.test("env: a wrong value is a config error naming the key, the variable, the value and what is allowed", async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [
      { UN_WORKERS_CONCURRENCY: "lots" },
      /^workers\.concurrency must be an integer 1\.\.256, got "lots" \(set by UN_WORKERS_CONCURRENCY\)$/,
    ],
    [
      { UN_WORKERS_CONCURRENCY: "0" },
      /^workers\.concurrency must be an integer 1\.\.256, got 0 \(set by UN_WORKERS_CONCURRENCY\)$/,
    ],
    [
      { UN_API_PORT: "70000" },
      /^api\.port must be an integer 0\.\.65535, got 70000 \(set by UN_API_PORT\)$/,
    ],
    [
      { UN_API_INSPECT: "no" },
      /^api\.inspect must be: expected boolean, received string, got "no" \(set by UN_API_INSPECT\)$/,
    ],
    [
      { UN_LOG_LEVEL: "loud" },
      /^log\.level must be one of "debug", "info", "warn", "error", got "loud" \(set by UN_LOG_LEVEL\)$/,
    ],
    [
      { UN_API_HOST: "0.0.0.0" },
      /^api\.host "0\.0\.0\.0" is not loopback: set api\.token \(UN_API_TOKEN\)/,
    ],
  ];
  for (const [env, pattern] of cases) {
    const error = await load({}, env).then(() => null, (e: unknown) => e);
    assert.ok(error instanceof ConfigError, JSON.stringify(env));
    assert.equal(error.problems.length, 1, error.message);
    assert.match(error.problems[0], pattern);
  }
});

Deno.test("env: unknown UN_* names are errors; the variables that are not config keys are left alone", () => {
  const raw: Record<string, unknown> = {};
  const problems = applyEnv(raw, {
    UN_CONFIG: "x.json",
    UN_URL: "http://127.0.0.1:4242",
    UN_TOKEN: "t",
    UN_PROCESS_ID: "p1",
    UN_FAULTS: "crash",
    UN_TEST_PG_URL: "postgres://x",
    HOME: "/root",
    UN_WORKERS_CONCURENCY: "2",
    UN_QQQQQQQQQQQQ: "1",
  });
  assert.deepEqual(raw, {}, "nothing set");
  assert.equal(problems.length, 2);
  assert.equal(
    problems[0],
    "UN_WORKERS_CONCURENCY is not a config variable; did you mean UN_WORKERS_CONCURRENCY (`workers.concurrency`)?",
  );
  assert.match(
    problems[1],
    /^UN_QQQQQQQQQQQQ is not a config variable \(known: UN_API_HOST, UN_API_PORT, /,
  );
});
