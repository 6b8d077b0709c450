/**
 * `PATCH /un/subscriptions/:id` against real `un start` processes and
 * receivers on 127.0.0.1, on both stores: a subscription switched off by
 * failed deliveries is switched back on (`enabled: true` clears its failures,
 * `subscription.updated` and `subscription.enabled` are published) and
 * delivers again; a new URL, headers and secret take effect; a bad change is
 * a 400 naming the field (the URL against `http.allow` as on create); the
 * secret is never in an answer; `enabled: false` stops deliveries with
 * `subscription.disabled`. On Redis a change made through one process is seen
 * by the other, whose events are then delivered.
 */

import assert from "node:assert/strict";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import { eventually } from "./helpers/eventually.ts";
import { api } from "./helpers/http.ts";
import { dropPrefix, REDIS_URL, redisForTests } from "./helpers/redis-store.ts";
import { startUn, type UnProcess } from "./helpers/un-process.ts";
import { receiver } from "./helpers/webhook-receiver.ts";

interface View {
  id: string;
  url: string;
  enabled: boolean;
  failures: number;
  disabledReason?: string;
  headers: Record<string, string>;
  ordered: boolean;
  secret?: string;
}

const CONFIG = {
  http: { allow: ["127.0.0.1"], disableAfter: 2 },
  workers: { backoffBaseMs: 20, backoffMaxMs: 100 },
};

/** Types of the `subscription.*` events about `id`, oldest first. */
async function changes(un: UnProcess, id: string): Promise<string[]> {
  const res = await api<{ events: CloudEvent[] }>(
    un.url,
    "GET",
    "/un/events/history?type=subscription.*&limit=1000",
  );
  return res.body.events.filter((e) => e.subject === id).map((e) => e.type);
}

/**
 * The whole story; `a` takes the changes, `b` publishes the events and reads
 * back (the same process on the embedded store).
 */
async function story(t: Deno.TestContext, a: UnProcess, b: UnProcess): Promise<void> {
  let secret = "";
  let up = false;
  /** The `n` of every delivery attempt, at either receiver. */
  const attempted: number[] = [];
  const attempt = (event: CloudEvent) => attempted.push((event.data as { n: number }).n);
  const rx = receiver(() => secret, (event) => (attempt(event), up ? 200 : 500));
  const rx2 = receiver(() => secret, (event) => (attempt(event), 200));
  const patch = (id: string, body: unknown) =>
    api<{ subscription: View; error?: { message: string; details: { field?: string } } }>(
      a.url,
      "PATCH",
      `/un/subscriptions/${id}`,
      body,
    );
  const get = async (id: string) =>
    (await api<{ subscription: View }>(b.url, "GET", `/un/subscriptions/${id}`)).body
      .subscription;
  const publish = (n: number) =>
    api(b.url, "POST", "/un/events/publish", { type: "patch.item", data: { n } });
  /**
   * Publishes events n, n + 1, … through b until one is attempted: b's
   * dispatcher learns of a change from its event (through the bridge on
   * Redis), and an event published before that is not delivered. Returns the
   * `n` of the first one attempted.
   */
  const publishUntilAttempted = async (from: number): Promise<number> => {
    const before = attempted.length;
    for (let n = from; n < from + 40; n++) {
      await publish(n);
      const seen = await eventually(() => attempted.length > before, { timeoutMs: 500 })
        .then(() => true, () => false);
      if (seen) return attempted[before];
    }
    throw new Error(`no delivery attempted for events ${from}..${from + 39}`);
  };
  try {
    const created = await api<{ subscription: View }>(a.url, "POST", "/un/events/subscribe", {
      pattern: "patch.*",
      url: rx.url,
      maxAttempts: 1,
    });
    assert.equal(created.status, 201);
    const id = created.body.subscription.id;
    secret = created.body.subscription.secret!;
    await eventually(async () => (await get(id))?.id === id, { message: "b sees it" });

    await t.step("failed deliveries in a row switch it off", async () => {
      const first = await publishUntilAttempted(0);
      // A second failure, unless a slow attempt of an earlier event made it already.
      if (attempted.length < 2) await publish(first + 1);
      await eventually(async () => !(await get(id)).enabled, {
        timeoutMs: 20_000,
        message: "auto-disabled",
      });
      const off = await get(id);
      assert.ok(off.failures >= 2, `failures: ${off.failures}`);
      assert.match(off.disabledReason ?? "", /2 deliveries in a row failed/);
    });

    await t.step("a bad change is a 400 naming the field; an unknown id 404", async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ url: "http://10.9.8.7/hook" }, /url.*http\.allow/],
        [{ url: "ftp://127.0.0.1/" }, /url/],
        [{ where: "data.n >" }, /where/],
        [{ pattern: "" }, /pattern/],
        [{ secret: "not-a-secret" }, /secret/],
        [{ maxAttempts: 0 }, /maxAttempts/],
        [{ colour: "red" }, /colour/],
        [{}, /nothing to change/],
      ];
      for (const [body, message] of cases) {
        const res = await patch(id, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.match(res.body.error!.message, message, JSON.stringify(body));
      }
      assert.equal((await patch("sub_none", { enabled: true })).status, 404);
      assert.equal((await get(id)).enabled, false, "nothing changed");
    });

    await t.step("enabled: true switches it back on and it delivers again", async () => {
      up = true;
      const res = await patch(id, { enabled: true });
      assert.equal(res.status, 200);
      assert.equal(res.body.subscription.enabled, true);
      assert.equal(res.body.subscription.failures, 0);
      assert.equal(res.body.subscription.disabledReason, undefined);
      assert.ok(!("secret" in res.body.subscription));
      await eventually(async () => {
        const list = await changes(b, id);
        return list.includes("subscription.updated") && list.includes("subscription.enabled");
      }, { message: "subscription.updated and subscription.enabled" });
      assert.deepEqual((await get(id)).failures, 0);
      const n = await publishUntilAttempted(100);
      await eventually(() => rx.received.length === 1, { message: "delivered again" });
      assert.equal((rx.received[0].event.data as { n: number }).n, n);
    });

    await t.step("a new URL, headers and secret take effect", async () => {
      const next = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
      const res = await patch(id, {
        url: rx2.url,
        headers: { "x-team": "docs" },
        secret: next,
        ordered: true,
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.subscription.url, rx2.url);
      assert.equal(res.body.subscription.ordered, true);
      assert.ok(!("secret" in res.body.subscription));
      secret = next;
      const listed = await api<{ subscriptions: View[] }>(b.url, "GET", "/un/subscriptions");
      assert.ok(listed.body.subscriptions.every((s) => !("secret" in s)));
      await eventually(async () => (await get(id)).url === rx2.url, { message: "b sees it" });
      // Until b's dispatcher has the new URL, an event may still go to the old one.
      for (let n = 200; rx2.received.length === 0; n++) {
        assert.ok(n < 240, "no delivery at the new URL");
        await publishUntilAttempted(n);
        await eventually(() => rx2.received.length === 1, { timeoutMs: 500 }).catch(() => {});
      }
      assert.equal(rx2.received[0].headers.get("x-team"), "docs");
      assert.deepEqual(rx2.failures, [], "signed with the new secret");
      // Once the new URL took over, nothing more goes to the old one.
      const atOld = rx.received.length;
      const n = await publishUntilAttempted(300);
      await eventually(() => rx2.received.some((r) => (r.event.data as { n: number }).n === n), {
        message: "the next event at the new URL",
      });
      assert.equal(rx.received.length, atOld, "nothing more at the old URL");
    });

    await t.step("enabled: false stops deliveries with subscription.disabled", async () => {
      const res = await patch(id, { enabled: false });
      assert.equal(res.body.subscription.enabled, false);
      await eventually(
        async () =>
          (await changes(b, id)).filter((c) => c === "subscription.disabled").length === 2,
        { message: "a second subscription.disabled" },
      );
      // b's dispatcher stops once it has the change: events until then may still go out.
      const stopped = async (n: number) => {
        const before = attempted.length;
        await publish(n);
        await new Promise((r) => setTimeout(r, 500));
        return attempted.length === before;
      };
      let n = 400;
      while (!await stopped(n)) assert.ok(++n < 440, "deliveries did not stop");
      assert.ok(await stopped(n + 1), "and stay stopped");
    });
  } finally {
    await rx.close();
    await rx2.close();
  }
}

Deno.test("PATCH /un/subscriptions/:id on the embedded store", async (t) => {
  await using un = await startUn({ config: CONFIG });
  await story(t, un, un);
});

const redisTests = await redisForTests("PATCH subscriptions on Redis");

Deno.test({
  name:
    `PATCH /un/subscriptions/:id on Redis: changed through one process, seen and delivered by another${redisTests.suffix}`,
  ignore: redisTests.ignore,
  async fn(t) {
    const prefix = `un-test:${crypto.randomUUID()}:`;
    try {
      const config = { ...CONFIG, redis: { url: REDIS_URL, prefix } };
      await using first = await startUn({ config });
      await using second = await startUn({ config });
      await story(t, first, second);
    } finally {
      await dropPrefix(prefix);
    }
  },
});
