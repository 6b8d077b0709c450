/**
 * GitHub sources, end to end: a fake GitHub REST API and a webhook endpoint on
 * loopback (the endpoint calls `receiveWebhook` as the real route does), real
 * deliveries from `@octokit/webhooks-examples`, signed with
 * `@octokit/webhooks-methods`, the real poll scanner and a real SqliteStore.
 */

import assert from "node:assert/strict";
import { sign } from "@octokit/webhooks-methods";
import type { SourceSpec } from "../lib/config/load.ts";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import { receiveWebhook } from "../lib/sources/github-webhook.ts";
import type { GithubSourceSpec } from "../lib/sources/github.ts";
import type { Store } from "../lib/store/types.ts";
import {
  openStore,
  serve,
  source,
  startScanners,
  type TestServer,
} from "./helpers/poll-scanner.ts";
import {
  deliverWebhook as deliver,
  example,
  EXAMPLE_REPO as REPO,
  EXAMPLE_SECRET as SECRET,
  type Payload,
  PING_REPO,
} from "./helpers/github-examples.ts";
import { eventually } from "./helpers/eventually.ts";

interface Commit {
  sha: string;
  message: string;
  author: string;
}

interface ApiRequest {
  path: string;
  auth: string | null;
  userAgent: string | null;
  ifNoneMatch: string | null;
  status: number;
  at: number;
}

/** A fake of `GET /repos/{owner}/{repo}/commits` with ETags and rate limits. */
function fakeGithub(head: Commit) {
  const api = {
    head,
    requests: [] as ApiRequest[],
    /** Headers to add to the next answers (rate limit), and a status to force. */
    extraHeaders: {} as Record<string, string>,
    forceStatus: null as number | null,
    server: null as unknown as TestServer,
  };
  api.server = serve((req) => {
    const url = new URL(req.url);
    const etag = `W/"${api.head.sha}"`;
    const ifNoneMatch = req.headers.get("if-none-match");
    const known = url.pathname === `/repos/${REPO}/commits`;
    const status = api.forceStatus ?? (!known ? 404 : ifNoneMatch === etag ? 304 : 200);
    api.requests.push({
      path: url.pathname + url.search,
      auth: req.headers.get("authorization"),
      userAgent: req.headers.get("user-agent"),
      ifNoneMatch,
      status,
      at: Date.now(),
    });
    const headers = { etag, "x-ratelimit-limit": "60", ...api.extraHeaders };
    if (status !== 200) {
      const body = status === 304 ? null : JSON.stringify({ message: "API rate limit exceeded" });
      return new Response(body, { status, headers });
    }
    const commits = [{
      sha: api.head.sha,
      html_url: `https://github.com/${REPO}/commit/${api.head.sha}`,
      commit: { message: api.head.message, author: { name: api.head.author } },
      author: { login: api.head.author.toLowerCase() },
    }];
    return Response.json(commits, { headers });
  });
  return api;
}

/** A webhook endpoint doing what `POST /un/github/webhook` does. */
function webhookEndpoint(store: Store, sources: SourceSpec[], bearerToken?: string) {
  const events: CloudEvent[] = [];
  const github = sources.filter((s): s is GithubSourceSpec => s.kind === "github");
  const server = serve(async (req) => {
    try {
      const receipt = await receiveWebhook({
        sources: github,
        store,
        headers: req.headers,
        rawBody: await req.text(),
        bearer: bearerToken !== undefined &&
          req.headers.get("authorization") === `Bearer ${bearerToken}`,
      });
      events.push(...receipt.events);
      return Response.json({ duplicate: receipt.duplicate, events: receipt.events.length }, {
        status: 202,
      });
    } catch (error) {
      const status = (error as { status?: number }).status ?? 500;
      return Response.json({ error: (error as Error).message }, { status });
    }
  });
  return { server, events };
}

const PUSH_SHA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
const pushToDefault = () =>
  example("push", (p) => p.ref === "refs/heads/master" && p.deleted === false);

Deno.test("polling announces each new head commit once; an unchanged repo costs a 304", async () => {
  const api = fakeGithub({ sha: "a".repeat(40), message: "Initial commit", author: "Mona" });
  const { store, close } = await openStore();
  const spec = source({
    id: "hello",
    kind: "github",
    repo: REPO,
    apiUrl: api.server.url + "/",
    token: "ghp_test_token",
    interval: "1h",
  });
  const run = startScanners(store, [spec]);
  try {
    await eventually(() => run.events.length === 1, {
      intervalMs: 10,
      message: "the current head announced",
    });
    assert.deepEqual(run.events[0].type, "github.repo.updated");
    assert.deepEqual(run.events[0].subject, REPO);
    assert.deepEqual(run.events[0].data, {
      repo: REPO,
      sha: "a".repeat(40),
      message: "Initial commit",
      author: "Mona",
      url: `https://github.com/${REPO}/commit/${"a".repeat(40)}`,
      via: "poll",
    });
    assert.deepEqual(api.requests[0].path, `/repos/${REPO}/commits?per_page=1`);
    assert.deepEqual(api.requests[0].auth, "Bearer ghp_test_token");
    assert.ok(api.requests[0].userAgent?.startsWith("un"), "a User-Agent is sent");

    assert.deepEqual(await run.scan("hello"), { changes: 0 });
    assert.deepEqual(api.requests.at(-1)?.status, 304, "unchanged repo answered 304");
    assert.deepEqual(api.requests.at(-1)?.ifNoneMatch, `W/"${"a".repeat(40)}"`);

    api.head = { sha: "b".repeat(40), message: "Fix the README", author: "Octocat" };
    assert.deepEqual(await run.scan("hello"), { changes: 1 });
    assert.deepEqual(run.events.map((e) => (e.data as { sha: string }).sha), [
      "a".repeat(40),
      "b".repeat(40),
    ]);
    assert.deepEqual(await run.scan("hello"), { changes: 0 });
    assert.deepEqual(run.events.length, 2);
    assert.deepEqual(run.crashes, []);
  } finally {
    await run.stop();
    await close();
    await api.server.close();
  }
});

Deno.test("webhook and polling together announce a head sha only once", async () => {
  const api = fakeGithub({ sha: PUSH_SHA, message: "Initial commit", author: "Codertocat" });
  const { store, close } = await openStore();
  const spec = source({
    id: "hello",
    kind: "github",
    repo: REPO,
    apiUrl: api.server.url,
    secret: SECRET,
    interval: "1h",
  });
  const run = startScanners(store, [spec]);
  const hook = webhookEndpoint(store, [spec]);
  try {
    await eventually(() => run.events.length === 1, {
      intervalMs: 10,
      message: "the poll announcing the head",
    });
    assert.deepEqual((run.events[0].data as { via: string }).via, "poll");

    // GitHub's push for the same sha arrives afterwards: a push event, no second announcement.
    const push = pushToDefault();
    assert.deepEqual((await deliver(hook.server.url, "push", push)).status, 202);
    assert.deepEqual(hook.events.map((e) => e.type), ["github.push"]);
    const pushData = hook.events[0].data as Record<string, unknown>;
    assert.deepEqual([pushData.repo, pushData.ref, pushData.after], [
      REPO,
      "refs/heads/master",
      PUSH_SHA,
    ]);
    assert.deepEqual(hook.events[0].source, "/un/sources/hello");

    // A newer push arrives by webhook first: announced there, and polling stays quiet.
    const newer = pushToDefault();
    const newSha = "c".repeat(40);
    newer.before = PUSH_SHA;
    newer.after = newSha;
    (newer.head_commit as Payload).id = newSha;
    await deliver(hook.server.url, "push", newer);
    assert.deepEqual(hook.events.map((e) => e.type), [
      "github.push",
      "github.push",
      "github.repo.updated",
    ]);
    assert.deepEqual(hook.events[2].data, {
      repo: REPO,
      sha: newSha,
      message: "Initial commit",
      author: "Codertocat",
      url: (newer.head_commit as Payload).url as string,
      via: "webhook",
    });
    api.head = { sha: newSha, message: "Initial commit", author: "Codertocat" };
    assert.deepEqual(await run.scan("hello"), { changes: 0 });
    assert.deepEqual(api.requests.at(-1)?.status, 200, "the poll did see the new head");

    const announced = [...run.events, ...hook.events].filter((e) =>
      e.type === "github.repo.updated"
    );
    assert.deepEqual(announced.map((e) => (e.data as { sha: string }).sha), [PUSH_SHA, newSha]);

    // A push to another branch or a tag never announces the repo.
    await deliver(
      hook.server.url,
      "push",
      example("push", (p) => p.ref === "refs/tags/simple-tag"),
    );
    assert.deepEqual(hook.events.filter((e) => e.type === "github.repo.updated").length, 1);
  } finally {
    await run.stop();
    await hook.server.close();
    await close();
    await api.server.close();
  }
});

Deno.test("signed deliveries are mapped once; redeliveries are ignored; bad or missing signatures get 401", async () => {
  const { store, close } = await openStore();
  const hook = webhookEndpoint(store, [
    source({ id: "hello", kind: "github", repo: REPO, secret: SECRET }),
    source({ id: "octo", kind: "github", repo: PING_REPO, secret: SECRET }),
  ]);
  try {
    const cases: Array<[string, Payload, string]> = [
      ["ping", example("ping", undefined, PING_REPO), "github.ping"],
      ["release", example("release", (p) => p.action === "published"), "github.release"],
      [
        "pull_request",
        example("pull_request", (p) => p.action === "opened"),
        "github.pull_request",
      ],
      ["issues", example("issues", (p) => p.action === "opened"), "github.issues"],
    ];
    for (const [event, payload, type] of cases) {
      const res = await deliver(hook.server.url, event, payload, { delivery: `d-${event}` });
      assert.deepEqual(res, { status: 202, body: { duplicate: false, events: 1 } }, event);
      assert.deepEqual(hook.events.at(-1)?.type, type);
    }
    const [ping, release, pr, issue] = hook.events.map((e) => e.data as Record<string, unknown>);
    assert.deepEqual(ping.zen, (cases[0][1] as { zen: string }).zen);
    assert.deepEqual(release.tag, "0.0.1");
    assert.deepEqual([pr.action, pr.number], ["opened", 2]);
    assert.deepEqual([issue.action, typeof issue.title], ["opened", "string"]);
    assert.deepEqual(hook.events[2].subject, (cases[2][1].pull_request as Payload).html_url);

    // GitHub's "Redeliver" sends the same delivery id: accepted, nothing new.
    const again = await deliver(hook.server.url, "ping", cases[0][1], { delivery: "d-ping" });
    assert.deepEqual(again, { status: 202, body: { duplicate: true, events: 0 } });
    assert.deepEqual(hook.events.length, 4);

    const forged = await deliver(hook.server.url, "ping", cases[0][1], {
      signature: await sign("wrong secret", JSON.stringify(cases[0][1])),
    });
    assert.deepEqual(forged.status, 401);
    const tampered = { ...cases[0][1], zen: "Pay the attacker." };
    const tamperedRes = await deliver(hook.server.url, "ping", tampered, {
      signature: await sign(SECRET, JSON.stringify(cases[0][1])),
    });
    assert.deepEqual(tamperedRes.status, 401);
    assert.deepEqual(
      (await deliver(hook.server.url, "ping", cases[0][1], { secret: null })).status,
      401,
    );
    // No source for it: the same 401 as a bad signature.
    assert.deepEqual((await deliver(hook.server.url, "ping", { zen: "no repo" })).status, 401);
    assert.deepEqual(hook.events.length, 4, "rejected deliveries give no event");
  } finally {
    await hook.server.close();
    await close();
  }

  // Without a secret, only deliveries carrying the API token are accepted.
  const open = await openStore();
  const unsigned = webhookEndpoint(open.store, [
    source({ id: "open", kind: "github", repo: PING_REPO }),
  ], "the-api-token-0123");
  try {
    const ping = example("ping", undefined, PING_REPO);
    const refused = await deliver(unsigned.server.url, "ping", ping, { secret: null });
    assert.deepEqual(refused.status, 401);
    assert.deepEqual(unsigned.events.length, 0, "an unsigned delivery gives no event");
    const res = await deliver(unsigned.server.url, "ping", ping, {
      secret: null,
      headers: { authorization: "Bearer the-api-token-0123" },
    });
    assert.deepEqual(res.status, 202);
    assert.deepEqual(unsigned.events.map((e) => e.source), ["/un/sources/open"]);
  } finally {
    await unsigned.server.close();
    await open.close();
  }
});

Deno.test("rate limits are honoured: an exhausted budget waits for the reset, a 403 for Retry-After", async () => {
  const api = fakeGithub({ sha: "d".repeat(40), message: "m", author: "a" });
  const resetAt = Math.ceil(Date.now() / 1000) + 1;
  api.extraHeaders = { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(resetAt) };
  const { store, close } = await openStore();
  const run = startScanners(store, [
    source({ id: "limited", kind: "github", repo: REPO, apiUrl: api.server.url, interval: 100 }),
  ]);
  try {
    await eventually(() => run.events.length === 1, { intervalMs: 10, message: "the first poll" });
    const status = await eventually(() => run.status("limited"), {
      intervalMs: 10,
      message: "status",
    });
    assert.ok(
      status.nextPollAt !== null && status.nextPollAt >= resetAt * 1000 - 5,
      "waits for the reset",
    );
    api.extraHeaders = {};
    await eventually(() => api.requests.length >= 2, {
      timeoutMs: 5_000,
      intervalMs: 10,
      message: "the poll after the reset",
    });
    assert.ok(api.requests[1].at >= resetAt * 1000 - 5, "no request before the reset");

    // Secondary limit: 403 with Retry-After.
    const before = api.requests.length;
    api.forceStatus = 403;
    api.extraHeaders = { "retry-after": "1" };
    await eventually(() => api.requests.length > before, {
      timeoutMs: 2_000,
      intervalMs: 10,
      message: "a rate-limited poll",
    });
    const limitedAt = api.requests.at(-1)!.at;
    const limited = await eventually(async () => {
      const s = await run.status("limited");
      return s && s.failures > 0 ? s : null;
    }, { intervalMs: 10, message: "the rate limit in status" });
    assert.ok(limited.lastError?.includes("rate limit"), `status says so: ${limited.lastError}`);
    assert.ok(
      limited.nextPollAt !== null && limited.nextPollAt >= limitedAt + 900,
      "next poll after Retry-After",
    );
    api.forceStatus = null;
    api.extraHeaders = {};
    const count = api.requests.length;
    await eventually(() => api.requests.length > count, {
      timeoutMs: 5_000,
      intervalMs: 10,
      message: "the poll after Retry-After",
    });
    assert.ok(api.requests[count].at >= limitedAt + 950, "waited for Retry-After");
    await eventually(async () => (await run.status("limited"))?.failures === 0, {
      intervalMs: 10,
      message: "recovered",
    });
    assert.deepEqual(run.events.length, 1, "the same head is not announced again");
    assert.deepEqual(run.crashes, []);
  } finally {
    await run.stop();
    await close();
    await api.server.close();
  }
});
