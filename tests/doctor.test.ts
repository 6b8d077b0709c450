/**
 * `un doctor` as a user runs it (the real CLI, a subprocess): on a Redis
 * without persistence it warns naming AOF and RDB and exits 0; an eviction
 * policy that can drop un's keys is an ERROR (exit 1); an unreachable Redis
 * exits 2; on the embedded store it shows the path, the size and the lock
 * holder and says Redis is not used. The judgement itself is checked case by
 * case without a Redis.
 *
 * The Redis cases need `redis-server`; without it they are ignored, except
 * under `CI=true` where they fail.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { judge, type RedisReport } from "../lib/store/redis/diagnose.ts";
import { runCli } from "./helpers/cli.ts";
import { closedPort } from "./helpers/http.ts";
import { redisServerForTests, startRedis } from "./helpers/redis-server.ts";
import { startUn } from "./helpers/un-process.ts";

const { ignore, suffix } = redisServerForTests("doctor");

Deno.test({
  name: `doctor: a Redis without persistence gets a warning naming AOF and RDB${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis({ persistence: false });
    const ok = await runCli(["doctor"], { UN_REDIS_URL: redis.url });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /redis version +\d+\.\d+/);
    assert.match(ok.stdout, /AOF +off \(appendonly no\)/);
    assert.match(ok.stdout, /RDB +off \(save ""\)/);
    assert.match(ok.stdout, /maxmemory-policy +noeviction/);
    assert.match(ok.stdout, /^WARN +persistence is off \(AOF: appendonly no; RDB: save ""\)/m);
    assert.doesNotMatch(ok.stdout, /^ERROR/m);

    const admin = new Redis(redis.url);
    try {
      await admin.config("SET", "maxmemory-policy", "allkeys-lru");
    } finally {
      admin.disconnect();
    }
    const bad = await runCli(["doctor", "--json"], { UN_REDIS_URL: redis.url });
    assert.equal(bad.code, 1, bad.stderr);
    const report = JSON.parse(bad.stdout) as RedisReport & { ok: boolean };
    assert.equal(report.ok, false);
    assert.equal(report.policy, "allkeys-lru");
    assert.ok(
      report.findings.some((f) => f.level === "error" && /noeviction/.test(f.message)),
      bad.stdout,
    );

    const away = await runCli(["doctor"], { UN_REDIS_URL: `redis://127.0.0.1:${closedPort()}` });
    assert.equal(away.code, 2);
    assert.match(
      away.stderr,
      /^un: cannot read redis at redis:\/\/127\.0\.0\.1:\d+\/?: .*ECONNREFUSED/,
    );
  },
});

Deno.test("doctor: the embedded store's path, size and lock holder; Redis not used", async () => {
  await using un = await startUn();
  const result = await runCli(["doctor", "--config", un.configPath], {});
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^un doctor: embedded store \S+\.un$/m);
  assert.match(result.stdout, /file +\S+un\.db, [\d.]+ (B|KiB|MiB)/);
  assert.match(result.stdout, /lock +held by process \d+/);
  assert.match(result.stdout, /redis +not used/);
});

const SOUND: Omit<RedisReport, "findings"> = {
  version: "7.2.4",
  aof: true,
  appendfsync: "everysec",
  save: "3600 1",
  rdbLastStatus: "ok",
  aofLastWriteStatus: "ok",
  aofLastRewriteStatus: "ok",
  rdbLastSaveAt: null,
  changesSinceSave: 0,
  maxmemory: 0,
  policy: "noeviction",
  usedMemory: 1_000_000,
  epoch: null,
  epochSince: null,
  reset: null,
};

Deno.test("doctor: what is a warning and what is an error", () => {
  const cases: Array<[Partial<RedisReport>, string[]]> = [
    [{}, []],
    [{ aof: false, save: "" }, ["warn: persistence is off"]],
    [{ aof: false }, ["warn: AOF is off and RDB snapshots run"]],
    [{ aof: null, save: null }, ["warn: AOF is off or unknown"]],
    [{ policy: "volatile-lru" }, ["error: maxmemory-policy is volatile-lru"]],
    [{ policy: "allkeys-random" }, ["error: maxmemory-policy is allkeys-random"]],
    [{ rdbLastStatus: "err" }, ["error: the last RDB snapshot failed"]],
    [{ aofLastWriteStatus: "err" }, ["error: the AOF is failing"]],
    [{ maxmemory: 1_000_000 }, ["error: Redis is out of memory"]],
    [{ maxmemory: 1_050_000 }, ["warn: Redis is 95 % full"]],
    [
      { reset: { epoch: "e", at: "2025-01-01T00:00:00.000Z", previous: "d" } },
      ["warn: Redis lost its data at 2025-01-01T00:00:00.000Z"],
    ],
  ];
  for (const [change, expected] of cases) {
    const findings = judge({ ...SOUND, ...change }).map((f) => `${f.level}: ${f.message}`);
    assert.equal(findings.length, expected.length, JSON.stringify({ change, findings }));
    expected.forEach((start, i) => assert.ok(findings[i].startsWith(start), findings[i]));
  }
});
