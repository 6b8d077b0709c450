/**
 * Live delivery across processes survives a lost subscriber connection: what
 * another process published while it was down is read from the event log
 * once the subscription is back, and delivered once. On a private
 * redis-server, with the bridge's own listener and store; the other process
 * is a second store on the same Redis.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { listen } from "../lib/store/redis/bridge/broadcast.ts";
import { bridgeKeys } from "../lib/store/redis/bridge/keys.ts";
import { SeenIds } from "../lib/store/redis/bridge/seen.ts";
import { type CloudEvent, newId } from "../lib/events/cloud-event.ts";
import { createLogger } from "../lib/log.ts";
import { RedisStore } from "../lib/store/redis/store.ts";
import { cloudEvent } from "./store/conformance/helpers.ts";
import { redisServerForTests, startRedis } from "./helpers/redis-server.ts";
import { eventually } from "./helpers/eventually.ts";

const { ignore, suffix } = redisServerForTests("bridge replay");

/** Closes the connection named `name` from the server's side, as a network drop would. */
async function dropConnection(admin: Redis, name: string): Promise<void> {
  const list = String(await admin.client("LIST"));
  const line = list.split("\n").find((l) => l.includes(` name=${name} `));
  const id = line?.match(/^id=(\d+)/)?.[1];
  assert.ok(id, `no connection named ${name}`);
  await admin.client("KILL", "ID", id);
}

Deno.test({
  name:
    `bridge replay: events published while the subscriber was away arrive once it is back, once each${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis();
    const prefix = `replay:${newId()}:`;
    // The other process: its appends are logged and published.
    const other = await RedisStore.open({ url: redis.url, prefix, bridge: true });
    const name = `replay-sub-${newId()}`;
    // Slow to reconnect, so the appends below surely fall in the gap.
    const sub = new Redis(redis.url, { connectionName: name, retryStrategy: () => 700 });
    const history = new Redis(redis.url);
    const admin = new Redis(redis.url);
    const lines: string[] = [];
    const delivered: CloudEvent[] = [];
    const stop = listen(sub, {
      keys: bridgeKeys(prefix),
      self: "this-process",
      seen: new SeenIds(600_000, 10_000),
      log: createLogger({ level: "info", format: "text", write: (l) => lines.push(l) }),
      following: {
        wants: (type) => type.startsWith("deploy."),
        patterns: () => ["deploy.*"],
        onChange: () => () => {},
      },
      deliver: (event) => delivered.push(event),
      history,
    });
    try {
      const ids = (list: CloudEvent[]) => list.map((e) => e.id);
      const before = cloudEvent("deploy.started");
      // Subscribed once the first append is heard.
      await eventually(async () => {
        await other.appendEvents([before]);
        return delivered.length > 0;
      }, { timeoutMs: 5_000, message: "the subscription is up" });
      assert.deepEqual(new Set(ids(delivered)), new Set([before.id]));

      await dropConnection(admin, name);
      const missed = [cloudEvent("deploy.step"), cloudEvent("deploy.step")];
      const ignored = cloudEvent("file.created");
      await other.appendEvents([missed[0], ignored]);
      await other.appendEvents([missed[1]]);
      // Our own events (origin) are never delivered, from the log either.
      await other.appendEvents([{ ...cloudEvent("deploy.step"), origin: "this-process" }]);

      await eventually(() => Promise.resolve(delivered.length >= 3), {
        timeoutMs: 10_000,
        message: "the missed events, from the log",
      });
      const after = cloudEvent("deploy.done");
      await other.appendEvents([after]);
      await eventually(() => Promise.resolve(delivered.length >= 4), {
        timeoutMs: 5_000,
        message: "a live event after",
      });
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(ids(delivered), [before.id, ...ids(missed), after.id]);
      assert.ok(
        lines.some((l) => l.includes("caught up from the event log") && l.includes("replayed=2")),
        lines.join(""),
      );
    } finally {
      stop();
      sub.disconnect();
      history.disconnect();
      admin.disconnect();
      await other.close();
    }
  },
});
