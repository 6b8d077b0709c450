/**
 * Outbound webhook subscriptions against a real `un start` and a receiver on
 * 127.0.0.1: 1 000 events delivered, each signature checked with the
 * Standard Webhooks verifier from npm (not our own code); a receiver that
 * answers 500 three times gets the event once, after 4 attempts in the
 * delivery log; ordered delivery keeps order under retries; a URL `http.allow`
 * does not allow is refused with 400; `http.disableAfter` failed deliveries in
 * a row switch a subscription off with `subscription.disabled`. On Redis, a
 * subscription made through one process delivers the events of another, once.
 */

import assert from "node:assert/strict";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import { eventually } from "./helpers/eventually.ts";
import { api } from "./helpers/http.ts";
import { dropPrefix, REDIS_URL, redisForTests } from "./helpers/redis-store.ts";
import { startUn } from "./helpers/un-process.ts";
import { receiver } from "./helpers/webhook-receiver.ts";

interface Subscription {
  id: string;
  secret: string;
}

Deno.test("webhook subscriptions", async (t) => {
  await using un = await startUn({
    config: {
      http: { allow: ["127.0.0.1"], disableAfter: 3 },
      workers: { concurrency: 8, backoffBaseMs: 20, backoffMaxMs: 100 },
    },
  });
  const subscribe = (body: Record<string, unknown>) =>
    api<{ subscription: Subscription }>(un.url, "POST", "/un/events/subscribe", body);
  const publish = (type: string, data: Record<string, unknown>) =>
    api(un.url, "POST", "/un/events/publish", { type, data });

  await t.step("a URL http.allow does not allow is refused with 400", async () => {
    const res = await subscribe({ pattern: "x.*", url: "http://10.9.8.7/hook" });
    assert.equal(res.status, 400);
  });

  await t.step("1 000 events arrive, every signature verified by the npm verifier", async () => {
    let secret = "";
    const rx = receiver(() => secret, () => 200);
    const res = await subscribe({ pattern: "load.*", url: rx.url });
    assert.equal(res.status, 201);
    secret = res.body.subscription.secret;
    assert.match(secret, /^whsec_/);
    const started = performance.now();
    for (let i = 0; i < 1000; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => publish("load.item", { n: i + j })),
      );
    }
    await eventually(() => rx.received.length >= 1000, {
      timeoutMs: 120_000,
      message: "1000 deliveries",
    });
    console.log(`1000 deliveries in ${Math.round(performance.now() - started)} ms`);
    assert.deepEqual(rx.failures, []);
    const ns = new Set(rx.received.map((r) => (r.event.data as { n: number }).n));
    assert.equal(ns.size, 1000);
    assert.equal(rx.received[0].contentType, "application/cloudevents+json");
    assert.equal(rx.received[0].event.specversion, "1.0");
    await api(un.url, "DELETE", `/un/subscriptions/${res.body.subscription.id}`);
    await rx.close();
  });

  await t.step("500 three times, then 200: delivered once, 4 attempts in the log", async () => {
    let secret = "";
    let calls = 0;
    const rx = receiver(() => secret, () => ++calls <= 3 ? 500 : 200);
    const res = await subscribe({ pattern: "flaky.*", url: rx.url, maxAttempts: 5 });
    secret = res.body.subscription.secret;
    const id = res.body.subscription.id;
    await publish("flaky.one", {});
    const log = await eventually(async () => {
      const r = await api<
        { deliveries: Array<{ taskId: string; state: string; attempts: number }> }
      >(
        un.url,
        "GET",
        `/un/subscriptions/${id}/deliveries`,
      );
      return r.body.deliveries[0]?.state === "succeeded" ? r.body.deliveries : undefined;
    }, { timeoutMs: 20_000, message: "the delivery to succeed" });
    assert.equal(log.length, 1);
    assert.equal(log[0].attempts, 4);
    // The task names the subscription; the secret is looked up at each attempt, never stored in it.
    const task = await api(un.url, "GET", `/un/tasks/${log[0].taskId}`);
    assert.equal(task.status, 200);
    assert.ok(!JSON.stringify(task.body).includes(secret.slice(6)));
    assert.equal(rx.received.length, 1);
    assert.equal(calls, 4);
    await api(un.url, "DELETE", `/un/subscriptions/${id}`);
    await rx.close();
  });

  await t.step("failed deliveries in a row switch the subscription off", async () => {
    let secret = "";
    const rx = receiver(() => secret, () => 404);
    const res = await subscribe({ pattern: "gone.*", url: rx.url });
    secret = res.body.subscription.secret;
    const id = res.body.subscription.id;
    for (let n = 0; n < 3; n++) await publish("gone.item", { n });
    await eventually(async () => {
      const r = await api<{ subscription: { enabled: boolean; failures: number } }>(
        un.url,
        "GET",
        `/un/subscriptions/${id}`,
      );
      return r.body.subscription.enabled === false && r.body.subscription.failures === 3;
    }, { timeoutMs: 20_000, message: "the subscription to be disabled" });
    const history = await api<{ events: CloudEvent[] }>(
      un.url,
      "GET",
      "/un/events/history?type=subscription.disabled",
    );
    assert.deepEqual(history.body.events.map((e) => e.subject), [id]);
    await publish("gone.item", { n: 4 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const log = await api<{ deliveries: unknown[] }>(
      un.url,
      "GET",
      `/un/subscriptions/${id}/deliveries`,
    );
    assert.equal(log.body.deliveries.length, 3);
    await rx.close();
  });

  await t.step("ordered: order kept under retries", async () => {
    let secret = "";
    const tries = new Map<number, number>();
    // Every third event fails twice before it is taken.
    const rx = receiver(() => secret, (event) => {
      const n = (event.data as { n: number }).n;
      const count = (tries.get(n) ?? 0) + 1;
      tries.set(n, count);
      return n % 3 === 0 && count <= 2 ? 500 : 200;
    });
    const res = await subscribe({ pattern: "seq.*", url: rx.url, ordered: true, maxAttempts: 5 });
    secret = res.body.subscription.secret;
    for (let n = 0; n < 30; n++) await publish("seq.item", { n });
    await eventually(() => rx.received.length >= 30, {
      timeoutMs: 60_000,
      message: "30 ordered deliveries",
    });
    const order = rx.received.map((r) => (r.event.data as { n: number }).n);
    assert.deepEqual(order, Array.from({ length: 30 }, (_, n) => n));
    const list = await api<{ subscriptions: Array<{ id: string; ordered: boolean }> }>(
      un.url,
      "GET",
      "/un/subscriptions",
    );
    assert.ok(list.body.subscriptions.some((s) => s.id === res.body.subscription.id && s.ordered));
    assert.ok(!("secret" in list.body.subscriptions[0]));
    await rx.close();
  });
});

const redisTests = await redisForTests("webhook subscriptions on Redis");

Deno.test({
  name:
    `webhook subscriptions on Redis: subscribed through one process, events of another are delivered once each${redisTests.suffix}`,
  ignore: redisTests.ignore,
  async fn() {
    const prefix = `un-test:${crypto.randomUUID()}:`;
    const config = {
      redis: { url: REDIS_URL, prefix },
      http: { allow: ["127.0.0.1"] },
      workers: { backoffBaseMs: 20, backoffMaxMs: 100 },
    };
    let secret = "";
    const rx = receiver(() => secret, () => 200);
    try {
      await using first = await startUn({ config });
      await using second = await startUn({ config });
      const res = await api<{ subscription: Subscription }>(
        first.url,
        "POST",
        "/un/events/subscribe",
        { pattern: "shared.*", url: rx.url },
      );
      secret = res.body.subscription.secret;
      await eventually(async () => {
        const r = await api<{ subscriptions: Subscription[] }>(
          second.url,
          "GET",
          "/un/subscriptions",
        );
        return r.body.subscriptions.some((s) => s.id === res.body.subscription.id);
      }, { message: "the other process lists the subscription" });
      // Each process's dispatcher loads the subscription from `subscription.created`
      // (the second one's through the bridge): probe each until one of its events is
      // delivered (an event published before that is not; probes are not counted below).
      for (const [name, un] of [["first", first], ["second", second]] as const) {
        const type = `shared.probe-${name}`;
        for (let probe = 0; !rx.received.some((r) => r.event.type === type); probe++) {
          assert.ok(probe < 40, `the ${name} process never delivered`);
          await api(un.url, "POST", "/un/events/publish", { type, data: {} });
          await eventually(() => rx.received.some((r) => r.event.type === type), {
            timeoutMs: 500,
          }).catch(() => {});
        }
      }
      for (let n = 0; n < 20; n++) {
        const un = n % 2 === 0 ? first : second;
        await api(un.url, "POST", "/un/events/publish", { type: "shared.item", data: { n } });
      }
      const items = () => rx.received.filter((r) => r.event.type === "shared.item");
      await eventually(() => items().length >= 20, {
        timeoutMs: 20_000,
        message: "20 deliveries",
      });
      await new Promise((r) => setTimeout(r, 300));
      const ns = items().map((r) => (r.event.data as { n: number }).n).sort((a, b) => a - b);
      assert.deepEqual(ns, Array.from({ length: 20 }, (_, n) => n));
      assert.deepEqual(rx.failures, []);
    } finally {
      await rx.close();
      await dropPrefix(prefix);
    }
  },
});
