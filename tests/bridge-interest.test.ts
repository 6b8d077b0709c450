/**
 * Publishing only what some process follows (lib/store/redis/bridge/interest.ts and
 * gate.ts): a store with the bridge logs every batch but publishes a type on
 * pub/sub only once a process has said it follows it, or a subscriber it
 * cannot see listens. Real Redis (a private redis-server, so its command counts are ours
 * alone), the real store, a raw subscriber.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { PublishGate } from "../lib/store/redis/bridge/gate.ts";
import {
  FollowerInterest,
  GATE_REFRESH_MS,
  registerInterest,
} from "../lib/store/redis/bridge/interest.ts";
import { bridgeKeys } from "../lib/store/redis/bridge/keys.ts";
import { decodeBroadcast } from "../lib/store/redis/bridge/wire.ts";
import { silentLogger } from "../lib/log.ts";
import { RedisStore } from "../lib/store/redis/store.ts";
import { redisServerForTests, startRedis } from "./helpers/redis-server.ts";
import { cloudEvent } from "./store/conformance/helpers.ts";
import { eventually } from "./helpers/eventually.ts";

const { ignore, suffix } = redisServerForTests("bridge interest");

const PREFIX = "gate-test:";
const keys = bridgeKeys(PREFIX);
/** Long enough for the store's gate to read the interest hash again. */
const settle = () => new Promise((r) => setTimeout(r, 3 * GATE_REFRESH_MS));

async function publishCalls(admin: Redis): Promise<number> {
  const stats = await admin.info("commandstats");
  return Number(/cmdstat_publish:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

Deno.test({
  name: `bridge interest: a type nobody follows is logged, not published; one followed is${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis();
    const store = await RedisStore.open({ url: redis.url, prefix: PREFIX, bridge: true });
    const admin = new Redis(redis.url);
    const follower = new Redis(redis.url);
    const heard: string[] = [];
    follower.on("pmessage", (_p: string, _c: string, message: string) => {
      heard.push(...decodeBroadcast(message).map((e) => e.type));
    });
    try {
      await settle();
      await store.appendEvents([cloudEvent("y.quiet"), cloudEvent("z.quiet")]);
      assert.equal(await publishCalls(admin), 0, "nothing published: nobody follows y.* or z.*");
      assert.equal((await store.eventHistory({ limit: 10 })).length, 2, "both logged");

      // Another process follows y.*: it subscribes, then says so.
      await follower.psubscribe(keys.channelPattern("y.*"));
      await registerInterest(admin, keys, "other-process", ["y.*"]);
      await settle();
      await store.appendEvents([cloudEvent("y.loud"), cloudEvent("z.quiet")]);
      await eventually(() => Promise.resolve(heard.length === 1), {
        timeoutMs: 5_000,
        message: "y.loud published",
      });
      assert.deepEqual(heard, ["y.loud"]);
      assert.equal(await publishCalls(admin), 1, "only the followed type went out");

      // A subscriber from outside (redis-cli PSUBSCRIBE): nothing is skipped.
      const outsider = new Redis(redis.url);
      try {
        await outsider.psubscribe(`${PREFIX}events:*`);
        await settle();
        await store.appendEvents([cloudEvent("z.now")]);
        assert.equal(await publishCalls(admin), 2, "published for the outsider");
      } finally {
        outsider.disconnect();
      }
    } finally {
      follower.disconnect();
      admin.disconnect();
      await store.close();
    }
  },
});

Deno.test({
  name:
    `bridge interest: once a follow's wait is over, no publisher skips it, however late its reads${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis();
    const writer = new Redis(redis.url);
    const publisherConn = new Redis(redis.url);
    // A publisher whose reads stall after the first (a busy process, its timer late):
    // it keeps the view it had, from before the follow was written.
    let reads = 0;
    const stalling = new Proxy(publisherConn, {
      get(target, key, receiver) {
        if (key === "pipeline" && reads++ > 0) {
          return () => ({
            time: () => ({ hgetall: () => ({ call: () => ({ call: () => stalled }) }) }),
          });
        }
        const value = Reflect.get(target, key, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const stalled = { exec: () => new Promise(() => {}) };
    const gate = new PublishGate(stalling, keys);
    const interest = new FollowerInterest({
      writer,
      keys,
      self: "follower",
      log: silentLogger,
      patterns: () => ["y.*"],
      catchUp: () => Promise.resolve(0),
    });
    try {
      gate.start();
      await eventually(() => Promise.resolve(!gate.publishes("y.any")), {
        timeoutMs: 5_000,
        message: "the first view",
      });
      await interest.changed(["y.*"], Date.now());
      await interest.read();
      assert.ok(gate.publishes("y.any"), "a view from before the follow outlived the wait");
    } finally {
      gate.stop();
      interest.close();
      writer.disconnect();
      publisherConn.disconnect();
    }
  },
});
