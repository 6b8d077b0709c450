/**
 * The events endpoints against a real `un start`: publish, history (pattern,
 * `after`, `limit`), bad input named by field, and the SSE stream live and
 * resumed with `Last-Event-ID`.
 */

import assert from "node:assert/strict";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import { assertError } from "./helpers/api.ts";
import { openStream, publish } from "./helpers/events.ts";
import { api } from "./helpers/http.ts";
import { startUn } from "./helpers/un-process.ts";

Deno.test("control plane: events", async (t) => {
  await using un = await startUn();

  await t.step(
    "POST /un/events/publish stores the event; history filters by pattern, after and limit",
    async () => {
      const first = await publish(un, "deploy.started", { env: "prod" });
      assert.equal(first.source, "/un/api");
      assert.equal(first.specversion, "1.0");
      assert.equal(first.type, "deploy.started");
      assert.deepEqual(first.data, { env: "prod" });
      const second = await publish(un, "deploy.finished", { env: "prod" });
      await publish(un, "other.thing");

      const all = await api<{ events: CloudEvent[] }>(
        un.url,
        "GET",
        "/un/events/history?type=deploy.*",
      );
      assert.equal(all.status, 200);
      assert.deepEqual(all.body.events.map((e) => e.id), [first.id, second.id]);

      const after = await api<{ events: CloudEvent[] }>(
        un.url,
        "GET",
        `/un/events/history?type=deploy.*&after=${first.id}`,
      );
      assert.deepEqual(after.body.events.map((e) => e.type), ["deploy.finished"]);
      const limited = await api<{ events: CloudEvent[] }>(
        un.url,
        "GET",
        "/un/events/history?type=deploy.**&limit=1",
      );
      assert.deepEqual(limited.body.events.map((e) => e.id), [first.id]);
    },
  );

  await t.step("publish and history refuse bad input, naming the field", async () => {
    assertError(await api(un.url, "POST", "/un/events/publish", { type: "deploy.*" }), 400, "type");
    assertError(
      await api(un.url, "POST", "/un/events/publish", { type: "a", priority: "urgent" }),
      400,
      "priority",
    );
    const unknown = assertError(
      await api(un.url, "POST", "/un/events/publish", { type: "a", tipe: 1 }),
      400,
    );
    assert.match(unknown.error.message, /unknown key\(s\) "tipe"/);
    assertError(await api(un.url, "GET", "/un/events/history?type=file.*x"), 400, "type");
    assertError(await api(un.url, "GET", "/un/events/history?limit=0"), 400, "limit");
    assertError(await api(un.url, "GET", "/un/events/history?limit=1001"), 400, "limit");
  });

  await t.step(
    "GET /un/events/stream delivers a published event live, with its id, as a plain message",
    async () => {
      const stream = await openStream(`${un.url}/un/events/stream?type=live.*`);
      try {
        const event = await publish(un, "live.ping", { n: 1 });
        await publish(un, "notlive.ping");
        const [message] = await stream.take(1);
        assert.equal(message.id, event.id);
        // A plain message (EventSource.onmessage sees it); the type is in the CloudEvent.
        assert.equal(message.event, "message");
        const data = JSON.parse(message.data) as CloudEvent;
        assert.equal(data.type, "live.ping");
        assert.deepEqual(data.data, { n: 1 });
      } finally {
        await stream.close();
      }
    },
  );

  await t.step(
    "a stream opened with Last-Event-ID replays what came after it, then goes live",
    async () => {
      const a = await publish(un, "replay.one");
      const b = await publish(un, "replay.two");
      const stream = await openStream(`${un.url}/un/events/stream?type=replay.*`, {
        "last-event-id": a.id,
      });
      try {
        const [replayed] = await stream.take(1);
        assert.equal(replayed.id, b.id);
        const c = await publish(un, "replay.three");
        const [live] = await stream.take(1);
        assert.equal(live.id, c.id);
      } finally {
        await stream.close();
      }
    },
  );
});
