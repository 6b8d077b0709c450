/**
 * Resuming after an event, in a cluster: history and SSE give what was logged
 * after it, also an event with a smaller id that a slower process logged
 * later (id order would skip it for good). A real `un start` on a private
 * redis-server; the slower process is a store of the test's own on the same Redis.
 */

import assert from "node:assert/strict";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import { RedisStore } from "../lib/store/redis/store.ts";
import { cloudEvent } from "./store/conformance/helpers.ts";
import { openStream, publish } from "./helpers/events.ts";
import { api } from "./helpers/http.ts";
import { redisServerForTests, startRedis } from "./helpers/redis-server.ts";
import { startUn } from "./helpers/un-process.ts";

const { ignore, suffix } = redisServerForTests("event resume");

Deno.test({
  name: `event resume: after an event, a later-logged event with a smaller id still comes${suffix}`,
  ignore,
  sanitizeResources: false,
  async fn() {
    await using redis = await startRedis();
    const prefix = "resume-test:";
    await using un = await startUn({ config: { redis: { url: redis.url, prefix } } });
    const slower = await RedisStore.open({ url: redis.url, prefix, bridge: true });
    try {
      // Made first (the smaller id), logged last: a slower process's write.
      const late = { ...cloudEvent("resume.late"), origin: "slower-process" };
      const seen = await publish(un, "resume.seen");
      await slower.appendEvents([late]);
      assert.ok(late.id < seen.id);

      const res = await api<{ events: CloudEvent[] }>(
        un.url,
        "GET",
        `/un/events/history?type=resume.*&after=${seen.id}`,
      );
      assert.deepEqual(res.body.events.map((e) => e.id), [late.id]);

      const stream = await openStream(`${un.url}/un/events/stream?type=resume.*`, {
        "last-event-id": seen.id,
      });
      try {
        const [replayed] = await stream.take(1);
        assert.equal(replayed.id, late.id);
        const next = await publish(un, "resume.next");
        const [live] = await stream.take(1);
        assert.equal(live.id, next.id);
        await stream.quiet(300);
      } finally {
        await stream.close();
      }
    } finally {
      await slower.close();
    }
  },
});
