/**
 * The Redis store's event log (a stream, see lib/store/redis/events.ts):
 * retention by whole batches, the cap an append keeps between clean-ups, and
 * what one append puts on the stream and on pub/sub for the bridge.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import {
  COUNT_FIELD,
  decodeBroadcast,
  encodeEvents,
  EVENTS_FIELD,
  NEWEST_FIELD,
  TYPES_FIELD,
} from "../lib/store/redis/bridge/wire.ts";
import { GATE_REFRESH_MS } from "../lib/store/redis/bridge/interest.ts";
import { newId } from "../lib/events/cloud-event.ts";
import { closeStore, openStore, REDIS_URL, redisForTests } from "./helpers/redis-store.ts";
import { T0 } from "./store/conformance.ts";
import { cloudEvent } from "./store/conformance/helpers.ts";
import { eventually } from "./helpers/eventually.ts";

const { ignore, suffix } = await redisForTests("redis store events");

Deno.test({
  name:
    `redis store: retention removes whole batches, over as many calls as the batches' size needs${suffix}`,
  ignore,
  async fn() {
    const store = await openStore();
    try {
      // 60 batches of 100 events, ~1.6 MB: more than one trim call reads.
      const batches = Array.from(
        { length: 60 },
        (_, b) =>
          Array.from(
            { length: 100 },
            (_, i) => cloudEvent("x.big", T0 + b, { b, i, pad: "p".repeat(40) }),
          ),
      );
      for (const batch of batches) await store.appendEvents(batch);
      const policy = {
        maxFinishedTasks: 1e6,
        finishedTaskMaxAgeMs: 1e12,
        resultTtlMs: 1e12,
        maxEvents: 1_050,
        eventMaxAgeMs: 1e12,
      };
      // At least 1 050 stay, so the newest 11 batches: 49 go whole.
      assert.deepEqual(await store.trim(policy, T0 + 100), { tasks: 0, events: 4_900, results: 0 });
      const left = await store.eventHistory({ limit: 10_000 });
      assert.equal(left.length, 1_100);
      assert.deepEqual(left[0].data, { b: 49, i: 0, pad: "p".repeat(40) });
      // By age: the batches whose newest event is older than the cutoff.
      const byAge = await store.trim({ ...policy, maxEvents: 1e6, eventMaxAgeMs: 45 }, T0 + 100);
      assert.equal(byAge.events, 600);
      assert.equal((await store.eventHistory({ limit: 10_000 })).length, 500);
    } finally {
      await closeStore(store);
    }
  },
});

Deno.test({
  name:
    `redis store: an appended batch reaches the bridge as one stream entry and one message per run of a type${suffix}`,
  ignore,
  async fn() {
    const prefix = `un-test:${newId()}:`;
    const store = await openStore(prefix, { bridge: true });
    const listener = new Redis(REDIS_URL);
    const messages: [string, string][] = [];
    listener.on("pmessage", (_p: string, channel: string, message: string) => {
      messages.push([channel, message]);
    });
    try {
      await listener.psubscribe(`${prefix}events:*`);
      // A subscriber from outside is seen by the store's next read of who follows what.
      await new Promise((r) => setTimeout(r, 3 * GATE_REFRESH_MS));
      const events = [
        cloudEvent("file.created"),
        cloudEvent("file.created"),
        cloudEvent("task.queued"),
        cloudEvent("file.created"),
      ];
      await store.appendEvents(events);
      await eventually(() => Promise.resolve(messages.length >= 3), {
        timeoutMs: 5_000,
        message: "three messages",
      });
      await new Promise((r) => setTimeout(r, 100));
      const admin = new Redis(REDIS_URL);
      try {
        const entries = await admin.xrange(`${prefix}events:stream`, "-", "+");
        assert.equal(entries.length, 1, "one entry for the batch");
        const fields = entries[0][1];
        assert.deepEqual(fields, [
          TYPES_FIELD,
          "file.created\ntask.queued",
          EVENTS_FIELD,
          encodeEvents(events),
          COUNT_FIELD,
          "4",
          NEWEST_FIELD,
          String(Math.max(...events.map((e) => Date.parse(e.time)))),
        ]);
        const groups = await admin.xinfo("GROUPS", `${prefix}events:stream`) as unknown[][];
        assert.equal(groups.length, 1, "the hooks group was made with the stream");
      } finally {
        admin.disconnect();
      }
      assert.deepEqual(messages.map(([channel]) => channel), [
        `${prefix}events:file.created`,
        `${prefix}events:task.queued`,
        `${prefix}events:file.created`,
      ]);
      assert.deepEqual(messages.map(([, m]) => decodeBroadcast(m).map((e) => e.id)), [
        [events[0].id, events[1].id],
        [events[2].id],
        [events[3].id],
      ]);
      // A retried write (a reply lost): history gives each event once.
      await store.appendEvents(events);
      assert.deepEqual(
        (await store.eventHistory({ limit: 10 })).map((e) => e.id),
        events.map((e) => e.id),
      );
    } finally {
      listener.disconnect();
      await closeStore(store);
    }
  },
});

Deno.test({
  name: `redis store: an append that finds the log past its cap trims it back${suffix}`,
  ignore,
  async fn() {
    const prefix = `un-test:${newId()}:`;
    const store = await openStore(prefix, { eventCap: 1_000 });
    const admin = new Redis(REDIS_URL);
    try {
      // The cap is 1 000 with 1 000 of headroom: the append that makes it
      // 2 100 trims back to 1 000, whole batches, without any clean-up call.
      for (let b = 0; b < 21; b++) {
        const batch = Array.from(
          { length: 100 },
          (_, i) => cloudEvent("x.burst", T0 + b, { b, i }),
        );
        await store.appendEvents(batch);
      }
      await eventually(async () => Number(await admin.get(`${prefix}ev:count`)) === 1_000, {
        timeoutMs: 5_000,
        message: "the log trimmed back to its cap",
      });
      const left = await store.eventHistory({ limit: 10_000 });
      assert.equal(left.length, 1_000);
      assert.deepEqual(left[0].data, { b: 11, i: 0 }, "the oldest batches went");
      assert.equal(await admin.xlen(`${prefix}events:stream`), 10, "ten batches stay");
    } finally {
      admin.disconnect();
      await closeStore(store);
    }
  },
});
