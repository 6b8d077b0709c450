/**
 * The Redis store's faults, at the store, on a private redis-server (FLUSHALL
 * and CONFIG SET must never touch a shared one):
 * - epoch: stores opened together agree on one; after a FLUSHALL the first
 *   heartbeat (recordProcess) sees the loss and announces it, the others see
 *   it too; `ping()` throws a StoreFaultError naming it until `ackReset()`,
 *   which clears the acknowledging store at once and the others at their next
 *   heartbeat; a store that was away during the loss and the ack still hears
 *   of it, already acknowledged;
 * - out of memory: writes fail with OutOfMemoryError, `ping()` names
 *   maxmemory, claims are refused without a try; one accepted write clears it.
 *
 * Needs `redis-server`; without it the tests are ignored, except under
 * `CI=true` where they fail.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { OutOfMemoryError, StoreFaultError } from "../lib/errors.ts";
import { RedisStore } from "../lib/store/redis/store.ts";
import type { StoreFaultChange } from "../lib/store/redis/fault-report.ts";
import type { ProcessRecord } from "../lib/store/types.ts";
import { redisServerForTests, startRedis } from "./helpers/redis-server.ts";
import { newTask, T0 } from "./store/conformance/helpers.ts";

const { ignore, suffix } = redisServerForTests("redis store faults");

function record(id: string): ProcessRecord {
  return {
    id,
    role: "all",
    host: "test",
    pid: 1,
    startedAt: T0,
    seenAt: T0,
    concurrency: 0,
    busy: 0,
    paused: false,
  };
}

/** A heartbeat: what the process registry does every `scheduler.heartbeatMs`. */
function beat(store: RedisStore, id: string): Promise<void> {
  return store.recordProcess(record(id), 60_000, Date.now());
}

async function faultReasons(store: RedisStore): Promise<string[]> {
  try {
    await store.ping();
    return [];
  } catch (error) {
    assert.ok(error instanceof StoreFaultError, String(error));
    return error.reasons;
  }
}

function listen(store: RedisStore): StoreFaultChange[] {
  const heard: StoreFaultChange[] = [];
  store.onFault((change) => heard.push(change));
  return heard;
}

Deno.test({
  name:
    `redis store faults: a loss of data is reported until acknowledged, by every store${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis({ persistence: false });
    const open = () => RedisStore.open({ url: redis.url, prefix: "un:" });
    const [a, b, away] = await Promise.all([open(), open(), open()]);
    const admin = new Redis(redis.url);
    try {
      const heardA = listen(a);
      const heardB = listen(b);
      const heardAway = listen(away);
      const epoch = await admin.get("un:epoch");
      assert.match(epoch ?? "", /^[0-9A-Z]{26}$/, "a ULID, written once for all three");
      for (const store of [a, b, away]) assert.deepEqual(await faultReasons(store), []);

      await admin.flushall();
      await beat(a, "a");
      const [reason] = await faultReasons(a);
      assert.match(reason, /^Redis lost its data \(epoch changed at \d{4}-[\d-]+T[\d:.]+Z\)/);
      assert.notEqual(await admin.get("un:epoch"), epoch, "a fresh epoch, so a second loss shows");
      await beat(b, "b");
      assert.deepEqual(await faultReasons(b), [reason], "the same loss, the same words");
      assert.deepEqual(
        [heardA, heardB].map((heard) => heard.map((c) => c.kind === "reset" && c.announce)),
        [[true], [false]],
        "announced by the first store to see it only",
      );

      const acked = await b.ackReset();
      assert.equal(acked.acknowledged, true);
      assert.deepEqual(await faultReasons(b), [], "the acknowledging store clears at once");
      assert.deepEqual(await faultReasons(a), [reason], "the others at their next heartbeat");
      await beat(a, "a");
      assert.deepEqual(await faultReasons(a), []);
      assert.deepEqual(heardA.map((c) => c.kind), ["reset", "reset-acknowledged"]);
      assert.deepEqual(await b.ackReset(), { acknowledged: false, reset: null }, "once");

      // Away during all that: it still hears of the loss, acknowledged already.
      await beat(away, "away");
      assert.deepEqual(await faultReasons(away), []);
      assert.equal(heardAway.length, 1);
      const [late] = heardAway;
      assert.ok(late.kind === "reset" && late.observed && !late.announce && late.reset.ackedAt);
    } finally {
      admin.disconnect();
      await Promise.all([a.close(), b.close(), away.close()]);
    }
  },
});

Deno.test({
  name: `redis store faults: out of memory until a write is accepted again${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis();
    const store = await RedisStore.open({ url: redis.url, prefix: "un:" });
    const admin = new Redis(redis.url);
    try {
      const heard = listen(store);
      await admin.config("SET", "maxmemory", "1");
      await assert.rejects(store.enqueue(newTask(), Date.now()), (error: unknown) => {
        assert.ok(error instanceof OutOfMemoryError, String(error));
        assert.match(
          error.message,
          /^redis is out of memory \(OOM command not allowed .*\); try again/,
        );
        return true;
      });
      assert.deepEqual(await faultReasons(store), [
        "Redis is out of memory (maxmemory 1 bytes); creates and publishes answer 503 until " +
        "memory is freed or maxmemory raised",
      ]);
      // Refused before Redis: a task claimed now could not record its end.
      await assert.rejects(
        store.claim({ workerId: "w", queues: null, leaseMs: 1_000, now: Date.now() }),
        OutOfMemoryError,
      );
      // A MULTI refused by Redis (the event log's append) is out of memory too, not EXECABORT.
      await assert.rejects(
        store.appendEvents([{
          id: "01J00000000000000000000000",
          source: "/un/test",
          specversion: "1.0",
          type: "x.y",
          time: new Date().toISOString(),
          datacontenttype: "application/json",
          data: null,
          priority: "normal",
          origin: "test",
        }]),
        OutOfMemoryError,
      );

      await admin.config("SET", "maxmemory", "0");
      assert.ok((await faultReasons(store)).length === 1, "still reported until a write is taken");
      await beat(store, "p");
      assert.deepEqual(await faultReasons(store), []);
      await store.enqueue(newTask(), Date.now());
      assert.deepEqual(heard.map((c) => c.kind), ["oom", "oom-cleared"]);
    } finally {
      admin.disconnect();
      await store.close();
    }
  },
});
