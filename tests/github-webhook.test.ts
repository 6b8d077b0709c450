/**
 * `POST /un/github/webhook`, black-box: a real `un start` (with an API token,
 * which the webhook does not need: its signature is the authentication), a
 * fake GitHub REST API on loopback as the source's `apiUrl`, and real example
 * deliveries from `@octokit/webhooks-examples` signed with
 * `@octokit/webhooks-methods`.
 */

import assert from "node:assert/strict";
import { sign } from "@octokit/webhooks-methods";
import { history } from "./helpers/events.ts";
import { api } from "./helpers/http.ts";
import { startUn, type UnProcess } from "./helpers/un-process.ts";
import {
  deliverWebhook,
  type DeliveryOptions,
  example,
  EXAMPLE_REPO as REPO,
  EXAMPLE_SECRET as SECRET,
  type Payload,
  PING_REPO,
} from "./helpers/github-examples.ts";
import { eventually } from "./helpers/eventually.ts";

const TOKEN = "webhook-test-token";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const PUSH_SHA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";

const pushToDefault = () =>
  example("push", (p) => p.ref === "refs/heads/master" && p.deleted === false);

/** A fake `GET /repos/{owner}/{repo}/commits` whose head is `PUSH_SHA`. */
function fakeGithub() {
  const api = { requests: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    api.requests++;
    if (new URL(req.url).pathname !== `/repos/${REPO}/commits`) {
      return Response.json({ message: "Not Found" }, { status: 404 });
    }
    return Response.json([{
      sha: PUSH_SHA,
      html_url: `https://github.com/${REPO}/commit/${PUSH_SHA}`,
      commit: { message: "Initial commit", author: { name: "Codertocat" } },
      author: { login: "codertocat" },
    }], { headers: { etag: `W/"${PUSH_SHA}"` } });
  });
  const { port } = server.addr as Deno.NetAddr;
  return { api, server, url: `http://127.0.0.1:${port}` };
}

/** Delivers to this process's webhook endpoint (`query` as in `?source=hello`). */
function deliver(
  un: UnProcess,
  event: string,
  payload: Payload,
  { query = "", ...options }: DeliveryOptions & { query?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  return deliverWebhook(`${un.url}/un/github/webhook${query}`, event, payload, options);
}

Deno.test("webhook: signed deliveries publish once, redeliveries and bad signatures publish nothing, polling and webhook announce a sha once", async () => {
  const github = fakeGithub();
  await using un = await startUn({
    config: {
      api: { token: TOKEN },
      // The fake GitHub is on loopback, which a source added over the API may reach only when allowed.
      http: { allow: ["127.0.0.1"] },
      sources: [{
        id: "hello",
        kind: "github",
        repo: REPO,
        apiUrl: github.url,
        secret: SECRET,
        priority: "high",
        interval: "1h",
      }],
    },
  });
  try {
    // Polling announces the head first.
    const polled = await eventually(async () => {
      const events = await history(un, "github.**", AUTH);
      return events.length === 1 ? events[0] : undefined;
    }, { timeoutMs: 10_000, message: "the poll announcing the head" });
    assert.equal(polled.type, "github.repo.updated");
    assert.equal((polled.data as { via: string; sha: string }).via, "poll");

    // GitHub's push of the same sha: a push event, no second announcement.
    const first = await deliver(un, "push", pushToDefault(), { delivery: "d-push-1" });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.equal((first.body.events as string[]).length, 1);
    let events = await history(un, "github.**", AUTH);
    assert.deepEqual(events.map((e) => e.type), ["github.repo.updated", "github.push"]);
    const push = events[1];
    assert.equal(push.id, (first.body.events as string[])[0]);
    assert.equal(push.source, "/un/sources/hello");
    assert.equal(push.priority, "high");
    assert.equal(push.subject, REPO);
    assert.equal((push.data as { after: string }).after, PUSH_SHA);

    // The same delivery again (GitHub's "Redeliver"): accepted, nothing new.
    const again = await deliver(un, "push", pushToDefault(), { delivery: "d-push-1" });
    assert.equal(again.status, 200);
    assert.equal(again.body.duplicate, true);
    assert.deepEqual(again.body.events, []);

    // Forged, tampered and unsigned deliveries: 401 JSON, no event.
    const ping = example("release", (p) => p.action === "published");
    const forged = await deliver(un, "release", ping, {
      signature: await sign("wrong secret", JSON.stringify(ping)),
    });
    assert.equal(forged.status, 401);
    assert.equal((forged.body.error as { code: string }).code, "invalid_signature");
    const tampered = await deliver(un, "release", { ...ping, action: "deleted" }, {
      signature: await sign(SECRET, JSON.stringify(ping)),
    });
    assert.equal(tampered.status, 401);
    const unsigned = await deliver(un, "release", ping, { secret: null });
    assert.equal(unsigned.status, 401);
    assert.match(String((unsigned.body.error as { message: string }).message), /missing/);
    assert.equal(
      (await history(un, "github.**", AUTH)).length,
      2,
      "refused deliveries publish nothing",
    );

    // A newer push by webhook announces the new sha, once.
    const newer = pushToDefault();
    const newSha = "c".repeat(40);
    newer.before = PUSH_SHA;
    newer.after = newSha;
    const second = await deliver(un, "push", newer, { delivery: "d-push-2" });
    assert.equal(second.status, 202);
    assert.equal((second.body.events as string[]).length, 2);
    events = await history(un, "github.**", AUTH);
    const announced = events.filter((e) => e.type === "github.repo.updated");
    assert.deepEqual(announced.map((e) => (e.data as { sha: string; via: string }).via), [
      "poll",
      "webhook",
    ]);
    assert.equal((announced[1].data as { sha: string }).sha, newSha);
    // The same push redelivered under a new delivery id: seen by (repo, ref, after), nothing new.
    const repeat = await deliver(un, "push", newer, { delivery: "d-push-3" });
    assert.equal(repeat.status, 200, JSON.stringify(repeat.body));
    assert.equal(repeat.body.duplicate, true);
    assert.deepEqual(repeat.body.events, []);
    assert.equal(
      (await history(un, "github.**", AUTH)).filter((e) => e.type === "github.push").length,
      2,
      "one github.push per push",
    );

    // A repository nobody watches: the same refusal as a bad signature (no hint which it
    // was), and a body that is not JSON: 400.
    const unknown = await deliver(un, "ping", example("ping", undefined, PING_REPO));
    assert.equal(unknown.status, 401);
    assert.deepEqual(unknown.body, unsigned.body);
    const notJson = await fetch(`${un.url}/un/github/webhook`, { method: "POST", body: "nope" });
    assert.equal(notJson.status, 400);
    await notJson.body?.cancel();

    // A source without a secret takes only deliveries with the bearer token; without it,
    // the one refusal (nothing says the source exists or has no secret).
    const added = await api(un.url, "POST", "/un/sources/add", {
      id: "octo",
      kind: "github",
      repo: PING_REPO,
      apiUrl: github.url,
      interval: "1h",
      emitExisting: false,
    }, AUTH);
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const octoPing = example("ping", undefined, PING_REPO);
    const open = await deliver(un, "ping", octoPing, { secret: null });
    assert.equal(open.status, 401);
    assert.deepEqual(open.body, unsigned.body);
    const withToken = await deliver(un, "ping", octoPing, { secret: null, headers: AUTH });
    assert.equal(withToken.status, 202, JSON.stringify(withToken.body));
    const pinged = (await history(un, "github.**", AUTH)).filter((e) => e.type === "github.ping");
    assert.deepEqual(pinged.map((e) => e.source), ["/un/sources/octo"]);

    // ?source= picks the source; it must watch the delivery's repository.
    const mismatch = await deliver(un, "ping", octoPing, { query: "?source=hello" });
    assert.equal(mismatch.status, 400);
    const missing = await deliver(un, "ping", octoPing, { query: "?source=nope" });
    assert.equal(missing.status, 401);
    assert.deepEqual(missing.body, unsigned.body);
    const named = await deliver(un, "release", ping, { query: "?source=hello" });
    assert.equal(named.status, 202);

    // The rest of the API still wants the token.
    assert.equal((await api(un.url, "GET", "/un/sources")).status, 401);
  } finally {
    await github.server.shutdown();
  }
});
