/**
 * Sources managed at run time, black-box: a real `un start` subprocess and
 * real RSS feeds served on loopback. Sources added over the API scan, survive
 * a restart and stop when removed; bad definitions are refused naming the
 * field; manual scans are rate limited with a history; a failing source never
 * stops the others. The CLI's side is cli-sources.test.ts.
 */

import assert from "node:assert/strict";
import type { SourceView } from "../lib/sources/manage.ts";
import type { ScanRecord } from "../lib/sources/scan-history.ts";
import { history } from "./helpers/events.ts";
import { feedServer, itemsOf } from "./helpers/feed-server.ts";
import { api, closedPort } from "./helpers/http.ts";
import { startUn, type UnProcess } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

async function sourceList(un: UnProcess): Promise<SourceView[]> {
  const res = await api<{ sources: SourceView[] }>(un.url, "GET", "/un/sources");
  assert.equal(res.status, 200);
  return res.body.sources;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("a source added over the API scans, survives a restart, and stops when removed", async () => {
  const blog = feedServer(["one", "two"]);
  // The feeds are on loopback, which sources added over the API may reach only when allowed.
  let first: UnProcess | null = await startUn({ config: { http: { allow: ["127.0.0.1"] } } });
  const dir = first.dir;
  try {
    const added = await api<{ source: SourceView }>(first.url, "POST", "/un/sources/add", {
      id: "blog",
      kind: "feed",
      url: blog.url,
      interval: "200ms",
      hooks: [{ task: "noop", payload: { via: "source hook" } }],
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal(added.body.source.origin, "api");
    assert.equal(added.body.source.enabled, true);
    assert.equal(added.body.source.spec.interval, 200);

    await eventually(async () => (await itemsOf(first!, "blog")).length === 2, {
      timeoutMs: 10_000,
      message: "both items announced",
    });
    // The source's own hooks shorthand works for a source added at run time.
    await eventually(async () => {
      const res = await api<{ tasks: Array<{ payload: { via?: string } }> }>(
        first!.url,
        "GET",
        "/un/tasks?type=noop",
      );
      return res.body.tasks.filter((t) => t.payload.via === "source hook").length === 2;
    }, { timeoutMs: 10_000, message: "a noop task per item from the source's hooks" });
    const [created] = await history(first, "source.created");
    assert.equal(created.source, "/un/api");
    assert.equal(created.subject, "blog");
    assert.equal((created.data as unknown as { source: SourceView }).source.kind, "feed");

    const generated = await api<{ source: SourceView }>(first.url, "POST", "/un/sources/add", {
      kind: "feed",
      url: blog.url,
      interval: "1h",
    });
    assert.equal(generated.status, 201);
    assert.match(generated.body.source.id, /^feed-[0-9a-z]{10}$/);

    // A restart on the same store: still listed, still scanning, nothing announced twice.
    await first.stop();
    first = null;
    await using again = await startUn({ cwd: dir, config: { http: { allow: ["127.0.0.1"] } } });
    const listed = await sourceList(again);
    assert.deepEqual(listed.map((s) => s.id).sort(), ["blog", generated.body.source.id].sort());
    blog.feed.items.push("three");
    await eventually(async () => (await itemsOf(again, "blog")).length === 3, {
      timeoutMs: 10_000,
      message: "the item added after the restart",
    });
    assert.deepEqual((await itemsOf(again, "blog")).sort(), ["one", "three", "two"]);
    const status = (await sourceList(again)).find((s) => s.id === "blog")?.status as {
      lastScanAt: number | null;
    };
    assert.ok(status?.lastScanAt, "the list shows the scanner's status");

    // Removed: the scanner stops, the feed is no longer asked, nothing new is announced.
    const removed = await api(again.url, "DELETE", "/un/sources/blog");
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.equal(removed.body.deleted, true);
    assert.equal(removed.body.note, undefined, "an API source has no config note");
    assert.equal((await history(again, "source.deleted"))[0]?.subject, "blog");
    await sleep(300);
    const requests = blog.feed.requests;
    blog.feed.items.push("four");
    await sleep(1_000);
    assert.equal(blog.feed.requests, requests, "the feed is not polled after the delete");
    assert.deepEqual((await itemsOf(again, "blog")).sort(), ["one", "three", "two"]);
    assert.equal((await api(again.url, "GET", "/un/sources/blog")).status, 404);
    assert.equal((await api(again.url, "DELETE", "/un/sources/blog")).status, 404);
    assert.ok(!(await sourceList(again)).some((s) => s.id === "blog"));
  } finally {
    await first?.stop();
    await blog.server.shutdown();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("bad definitions are refused naming the field; a failing source never stops the others", async () => {
  const good = feedServer(["a"]);
  const cfgFeed = feedServer(["c"]);
  await using un = await startUn({
    config: {
      sources: [{ id: "cfg", kind: "feed", url: cfgFeed.url, interval: "1h" }],
      http: { allow: ["127.0.0.1"] },
    },
  });
  try {
    const add = (body: unknown) =>
      api<{ error: { message: string; details: Record<string, unknown> } }>(
        un.url,
        "POST",
        "/un/sources/add",
        body,
      );
    const cases: Array<[unknown, string, RegExp]> = [
      [{ kind: "feed", url: "not a url" }, "url", /url must be an http\(s\) URL, got "not a url"/],
      [{ kind: "feed", url: "ftp://x.example/feed" }, "url", /url must be an http\(s\) URL/],
      [{ kind: "rss", url: good.url }, "kind", /kind must be one of "fs", "feed", .*got "rss"/],
      [{ kind: "feed", url: good.url, interval: "50ms" }, "interval", /100ms\.\.604800000ms/],
      [{ kind: "feed", url: good.url, intervall: "1m" }, "intervall", /unknown key.*"intervall"/],
      [{ id: "a b", kind: "feed", url: good.url }, "id", /id must be 1-64 letters/],
      [{ kind: "github", repo: "no-slash" }, "repo", /repo must be "owner\/name"/],
      [[1, 2], "body", /body must be a JSON object/],
    ];
    for (const [body, field, message] of cases) {
      const res = await add(body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.details.field, field, JSON.stringify(res.body));
      assert.match(res.body.error.message, message);
    }
    const range = await add({ kind: "feed", url: good.url, interval: "50ms" });
    assert.equal(range.body.error.details.value, "50ms");
    const kind = await add({ kind: "rss", url: good.url });
    assert.deepEqual(kind.body.error.details.allowed, ["fs", "feed", "github", "http", "postgres"]);
    const taken = await add({ id: "cfg", kind: "feed", url: good.url });
    assert.equal(taken.status, 409);
    assert.match(taken.body.error.message, /source cfg already exists/);

    const failing = await add({
      id: "broken",
      kind: "feed",
      url: `http://127.0.0.1:${closedPort()}/feed.xml`,
      interval: "200ms",
    });
    assert.equal(failing.status, 201);
    assert.equal(
      (await add({ id: "good", kind: "feed", url: good.url, interval: "200ms" })).status,
      201,
    );
    await eventually(async () => (await itemsOf(un, "good")).length === 1, {
      timeoutMs: 10_000,
      message: "good's item",
    });
    const broken = await eventually(async () => {
      const status = (await sourceList(un)).find((s) => s.id === "broken")?.status as
        | { lastError: string | null; failures: number }
        | null;
      return status?.lastError && status.failures > 0 ? status : undefined;
    }, { timeoutMs: 10_000, message: "the failing source's last error in GET /un/sources" });
    assert.match(broken.lastError!, /refused|connect/i);
    good.feed.items.push("b");
    await eventually(async () => (await itemsOf(un, "good")).length === 2, {
      timeoutMs: 10_000,
      message: "good keeps announcing while broken fails",
    });

    // Disable and enable at run time: no polling while disabled, new items after enabling.
    const disabled = await api(un.url, "POST", "/un/sources/good/disable");
    assert.equal(disabled.status, 200);
    assert.equal((disabled.body.source as SourceView).enabled, false);
    assert.equal((await history(un, "source.disabled"))[0]?.subject, "good");
    assert.equal((await api(un.url, "POST", "/un/sources/good/disable")).body.changed, false);
    await sleep(300);
    const requests = good.feed.requests;
    good.feed.items.push("c");
    await sleep(800);
    assert.equal(good.feed.requests, requests, "a disabled source is not polled");
    const scanDisabled = await api<{ error: { message: string } }>(
      un.url,
      "POST",
      "/un/sources/good/scan",
    );
    assert.equal(scanDisabled.status, 409);
    assert.match(scanDisabled.body.error.message, /disabled/);
    assert.equal((await api(un.url, "POST", "/un/sources/good/enable")).status, 200);
    await eventually(async () => (await itemsOf(un, "good")).length === 3, {
      timeoutMs: 10_000,
      message: "the item added while disabled, once enabled",
    });

    // A config source may be disabled or deleted at run time; the answer says the file wins at start.
    const cfgOff = await api(un.url, "POST", "/un/sources/cfg/disable");
    assert.equal(cfgOff.status, 200);
    assert.match(String(cfgOff.body.note), /config file.*next start/);
    const cfgGone = await api(un.url, "DELETE", "/un/sources/cfg");
    assert.equal(cfgGone.status, 200);
    assert.match(String(cfgGone.body.note), /comes back on the next start/);

    const health = await api<{ actors: Array<{ id: string; restarts: number }> }>(
      un.url,
      "GET",
      "/health",
    );
    assert.equal(health.body.actors.find((a) => a.id === "source:broken")?.restarts, 0);
  } finally {
    await good.server.shutdown();
    await cfgFeed.server.shutdown();
  }
});

Deno.test("manual scans: the sixth within the window is 429 with Retry-After; the history lists five", async () => {
  const blog = feedServer(["x"]);
  const other = feedServer(["y"]);
  let un: UnProcess | null = await startUn({
    config: {
      sources: [
        { id: "blog", kind: "feed", url: blog.url, interval: "1h" },
        { id: "other", kind: "feed", url: other.url, interval: "1h" },
      ],
    },
  });
  const dir = un.dir;
  try {
    const base = un.url;
    await eventually(async () => (await itemsOf(un!, "blog")).length === 1, {
      timeoutMs: 10_000,
      message: "first poll",
    });
    for (let i = 0; i < 5; i++) {
      if (i === 2) blog.feed.items.push("z");
      const by = i % 2 === 0 ? { requestedBy: "cli" } : undefined;
      const res = await api<{ scan: ScanRecord }>(base, "POST", "/un/sources/blog/scan", by);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.scan.changes, i === 2 ? 1 : 0);
      assert.equal(res.body.scan.error, null);
    }
    const res = await fetch(`${base}/un/sources/blog/scan`, { method: "POST" });
    const body = await res.json();
    assert.equal(res.status, 429, JSON.stringify(body));
    const retryAfter = Number(res.headers.get("retry-after"));
    assert.ok(retryAfter > 0 && retryAfter <= 300, `Retry-After ${retryAfter}`);
    assert.equal(body.error.code, "rate_limited");
    assert.ok(body.error.details.retryAfterMs > 0 && body.error.details.retryAfterMs <= 300_000);
    assert.match(body.error.message, /retry in \d+s/);

    const scans = await api<{ scans: ScanRecord[] }>(base, "GET", "/un/sources/blog/scans");
    assert.equal(scans.status, 200);
    assert.equal(scans.body.scans.length, 5);
    assert.deepEqual(scans.body.scans.map((s) => s.requestedBy), [
      "cli",
      "api",
      "cli",
      "api",
      "cli",
    ]);
    assert.deepEqual(scans.body.scans.map((s) => s.changes), [0, 0, 1, 0, 0]);
    const times = scans.body.scans.map((s) => s.at);
    assert.deepEqual(times, [...times].sort((a, b) => b - a), "newest first");
    assert.ok((await history(un, "scan.completed")).length >= 5);

    // Scan all: each source against its own limit.
    const all = await api<
      { results: Array<{ source: string; ok: boolean; error?: { code: string } }> }
    >(
      base,
      "POST",
      "/un/scan",
    );
    assert.equal(all.status, 200);
    const bySource = Object.fromEntries(all.body.results.map((r) => [r.source, r]));
    assert.equal(bySource.blog.ok, false);
    assert.equal(bySource.blog.error?.code, "rate_limited");
    assert.equal(bySource.other.ok, true);

    assert.equal((await api(base, "POST", "/un/sources/nope/scan")).status, 404);
    assert.equal((await api(base, "GET", "/un/sources/nope/scans")).status, 404);
    const badBy = await api(base, "POST", "/un/sources/other/scan", { requestedBy: "a b" });
    assert.equal(badBy.status, 400);

    // The limit and the history live in the store: a restart keeps them.
    await un.stop();
    const apiOnly = await startUn({ cwd: dir, args: ["--role", "api"] });
    un = apiOnly;
    assert.equal((await api(apiOnly.url, "POST", "/un/sources/blog/scan")).status, 429);
    const kept = await api<{ scans: ScanRecord[] }>(apiOnly.url, "GET", "/un/sources/blog/scans");
    assert.equal(kept.body.scans.length, 5);
    // No process scans it (this one has no scanners): a clear 503 that does not use up the limit.
    for (let i = 0; i < 6; i++) {
      const unavailable = await api<{ error: { message: string } }>(
        apiOnly.url,
        "POST",
        "/un/sources/other/scan",
      );
      assert.equal(unavailable.status, 503);
      assert.match(unavailable.body.error.message, /no process scans source other right now/);
    }
  } finally {
    await un?.stop();
    await blog.server.shutdown();
    await other.server.shutdown();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
