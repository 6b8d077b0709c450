/**
 * The config schema on its own: what an empty config means (the defaults the
 * docs promise), durations written as strings, the defaults filled in for a
 * source, a schedule and a hook, and the rules across keys; each bad value is
 * one line naming the key, what is allowed and the value given.
 */

import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../lib/config/load.ts";

/** The problems of a config that must not parse. */
function problems(raw: unknown): string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail(`${JSON.stringify(raw)} was accepted`);
}

Deno.test("config: an empty config serves on loopback with the documented defaults", () => {
  const config = parseConfig({});
  assert.deepEqual([config.api.host, config.api.port, config.api.token], [
    "127.0.0.1",
    4242,
    undefined,
  ]);
  assert.equal(config.store.path, ".un/");
  assert.equal(config.redis.url, undefined, "embedded store unless a Redis URL is given");
  assert.deepEqual(
    [config.workers.concurrency, config.workers.queues, config.workers.maxAttempts],
    [4, ["*"], 3],
  );
  assert.deepEqual([config.workers.backoffBaseMs, config.workers.backoffMaxMs], [1_000, 300_000]);
  assert.deepEqual([config.scheduler.tickMs, config.scheduler.schedules], [250, []]);
  assert.deepEqual([config.sources, config.hooks], [[], []]);
  assert.deepEqual(config.http.allow, ["public"], "http tasks reach public addresses only");
  assert.deepEqual(config.files.allow, [], "file tasks reach nothing until allowed");
  assert.deepEqual(config.log, { level: "info", format: "text" });
});

Deno.test("config: a source, a schedule and a hook get their defaults; durations may be strings", () => {
  const config = parseConfig({
    sources: [{ id: "in", kind: "fs", path: "./in", interval: "5m" }],
    scheduler: { schedules: [{ id: "beat", every: "30s", task: "noop" }] },
    hooks: [{ on: "file.*", task: "file.metadata" }],
  });
  assert.deepEqual(config.sources[0], {
    id: "in",
    kind: "fs",
    path: "./in",
    interval: 300_000,
    enabled: true,
    priority: "normal",
    emitExisting: true,
    include: [],
    exclude: [],
    gitignore: true,
    debounceMs: 100,
    maxDelayMs: 2_000,
    maxPending: 10_000,
  });
  assert.deepEqual(config.scheduler.schedules[0], {
    id: "beat",
    every: 30_000,
    task: "noop",
    payload: {},
    queue: "default",
    priority: 5,
    catchUp: "none",
    catchUpMax: 10,
  });
  assert.deepEqual(config.hooks[0], { on: "file.*", task: "file.metadata" });
  assert.equal(
    parseConfig({ sources: [{ id: "x", kind: "fs", path: ".", interval: 1_500 }] })
      .sources[0].interval,
    1_500,
    "a number is milliseconds",
  );
});

Deno.test("config: each bad value is one line naming the key, what is allowed and the value", () => {
  const cases: [unknown, string][] = [
    [{ workers: { concurrency: 0 } }, "workers.concurrency must be an integer 1..256, got 0"],
    [
      { sources: [{ id: "a", kind: "ftp", path: "." }] },
      'sources.0.kind must be one of "fs", "feed", "github", "http", "postgres", got "ftp"',
    ],
    [
      { sources: [{ id: "a", kind: "fs", path: ".", interval: "50ms" }] },
      'sources.0.interval must be a duration 100ms..604800000ms (a number of ms or "500ms", "30s", "5m", "1h"), got "50ms"',
    ],
    [
      { hooks: [{ on: "file..x", task: "noop" }] },
      'hooks.0.on "file..x" is not a valid pattern: segments are words, "*" (one segment) or "**" (one or more), got "file..x"',
    ],
    [
      { hooks: [{ on: "file.*", task: "noop", priority: 10 }] },
      "hooks.0.priority must be an integer 0..9, got 10",
    ],
    [
      { sources: [{ id: "a", kind: "feed", url: "ftp://example.org/feed" }] },
      'sources.0.url must be an http(s) URL, got "ftp://example.org/feed"',
    ],
    [
      { log: { level: "loud" } },
      'log.level must be one of "debug", "info", "warn", "error", got "loud"',
    ],
  ];
  for (const [raw, line] of cases) assert.deepEqual(problems(raw), [line]);
  const cron = problems({
    scheduler: { schedules: [{ id: "s", task: "noop", cron: "every monday" }] },
  });
  assert.match(cron[0], /^scheduler\.schedules\.0\.cron is not a cron expression /);
});

Deno.test("config: the rules across keys", () => {
  assert.deepEqual(problems({ scheduler: { schedules: [{ id: "s", task: "noop" }] } }), [
    'scheduler.schedules.0 needs exactly one of "cron" or "every", got {"id":"s","task":"noop"}',
  ]);
  const both = problems({
    scheduler: { schedules: [{ id: "s", task: "noop", cron: "* * * * *", every: "1m" }] },
  });
  assert.match(both[0], /^scheduler\.schedules\.0 needs exactly one of "cron" or "every"/);
  assert.deepEqual(
    problems({ sources: [{ id: "a", kind: "fs", path: "." }, { id: "a", kind: "fs", path: "/" }] }),
    ['sources.1.id "a" is used by two sources'],
  );
  assert.deepEqual(problems({ workers: { backoffBaseMs: 5_000, backoffMaxMs: 1_000 } }), [
    "workers.backoffMaxMs must be >= workers.backoffBaseMs (5000), got 1000",
  ]);
  assert.deepEqual(problems({ api: { host: "0.0.0.0" } }), [
    'api.host "0.0.0.0" is not loopback: set api.token (UN_API_TOKEN) to bind it',
  ]);
  const token = "0123456789abcdef";
  assert.equal(
    parseConfig({ api: { host: "0.0.0.0", token } }).api.host,
    "0.0.0.0",
    "with a token it may",
  );
});
