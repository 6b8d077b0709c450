/**
 * Sources added at run time, black-box: what they may reach (`http.allow` for
 * URLs and postgres hosts, file roots for fs paths; config-file sources are
 * never checked), and their URLs' secrets (query values, passwords) kept out
 * of listings, `source.*` events, statuses and the log.
 */

import assert from "node:assert/strict";
import type { SourceView } from "../lib/sources/manage.ts";
import { history } from "./helpers/events.ts";
import { feedServer, itemsOf } from "./helpers/feed-server.ts";
import { api, closedPort } from "./helpers/http.ts";
import { startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

type ErrorBody = { error: { code: string; message: string; details: Record<string, unknown> } };

Deno.test("run-time sources reach only what http.allow covers; config sources are the operator's own", async () => {
  const blog = feedServer(["a"]);
  try {
    await using un = await startUn({
      config: { sources: [{ id: "own", kind: "feed", url: blog.url, interval: "1h" }] },
    });
    // The config's own loopback feed is scanned as it always was.
    await eventually(async () => {
      const res = await api<{ source: SourceView }>(un.url, "GET", "/un/sources/own");
      const status = res.body.source.status as { lastScanAt?: number; lastError?: string } | null;
      assert.equal(status?.lastError ?? null, null);
      return status?.lastScanAt ? true : undefined;
    }, { timeoutMs: 10_000, message: "the config source's first scan" });
    const add = (body: unknown) => api<ErrorBody>(un.url, "POST", "/un/sources/add", body);

    const feed = await add({ id: "blog", kind: "feed", url: blog.url });
    assert.equal(feed.status, 400, JSON.stringify(feed.body));
    assert.match(
      feed.body.error.message,
      /^url: host 127\.0\.0\.1 is not allowed by http\.allow \(\["public"\]\)/,
    );
    assert.equal(feed.body.error.details.field, "url");
    assert.equal(feed.body.error.details.host, "127.0.0.1");

    const http = await add({ kind: "http", url: "http://169.254.169.254/latest/meta-data/" });
    assert.equal(http.status, 400);
    assert.match(http.body.error.message, /^url: host 169\.254\.169\.254 is not allowed/);

    const github = await add({ kind: "github", repo: "o/r", apiUrl: "http://10.1.2.3/api" });
    assert.equal(github.status, 400);
    assert.match(github.body.error.message, /^apiUrl: host 10\.1\.2\.3 is not allowed/);

    // postgres: the URL's host, a host= parameter (pg prefers it) and Unix sockets.
    for (
      const url of [
        "postgres://app:pw@127.0.0.1:5432/test",
        "postgres://app:pw@db.example.com/test?host=127.0.0.1",
        "postgres://app@localhost/test",
        "postgres://app@%2Fvar%2Frun%2Fpostgresql/test",
      ]
    ) {
      const pg = await add({ kind: "postgres", url, tables: ["t"] });
      assert.equal(pg.status, 400, `${url}: ${JSON.stringify(pg.body)}`);
      assert.match(pg.body.error.message, /^url: .*http\.allow/);
      assert.ok(!pg.body.error.message.includes("pw"), "the password is not echoed");
    }

    // fs: only inside the file roots (none here but the config's, which has no fs source).
    const fs = await add({ kind: "fs", path: "/etc" });
    assert.equal(fs.status, 400, JSON.stringify(fs.body));
    assert.equal(fs.body.error.details.field, "path");

    const listed = await api<{ sources: SourceView[] }>(un.url, "GET", "/un/sources");
    assert.deepEqual(listed.body.sources.map((s) => s.id), ["own"], "nothing refused was stored");
  } finally {
    await blog.server.shutdown();
  }
});

Deno.test("allowed run-time sources scan; URL query values and passwords never show", async () => {
  const blog = feedServer(["one", "two"]);
  const secret = "secret123";
  try {
    await using un = await startUn({ config: { http: { allow: ["127.0.0.1"] } } });
    const url = `${blog.url}?api_key=${secret}&lang=en`;
    const added = await api<{ source: SourceView }>(un.url, "POST", "/un/sources/add", {
      id: "blog",
      kind: "feed",
      url,
      interval: "200ms",
      emitExisting: true,
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const shown = `${blog.url}?api_key=[redacted]&lang=[redacted]`;
    assert.equal(added.body.source.spec.url, shown);
    // A source that fails: fetch names the full URL in its error, which goes to the status and log.
    const down = `http://127.0.0.1:${closedPort()}/feed.xml?token=${secret}`;
    const failing = await api(un.url, "POST", "/un/sources/add", {
      id: "down",
      kind: "feed",
      url: down,
      interval: "200ms",
    });
    assert.equal(failing.status, 201, JSON.stringify(failing.body));
    const pg = await api(un.url, "POST", "/un/sources/add", {
      id: "db",
      kind: "postgres",
      url: `postgres://app:${secret}@127.0.0.1:${closedPort()}/test?password=${secret}`,
      tables: ["t"],
    });
    assert.equal(pg.status, 201, JSON.stringify(pg.body));

    // The stored spec keeps the real URL: the feed is read with its api_key.
    await eventually(async () => (await itemsOf(un, "blog")).length === 2, {
      timeoutMs: 10_000,
      message: "items",
    });
    const status = await eventually(async () => {
      const res = await api<{ source: SourceView }>(un.url, "GET", "/un/sources/down");
      const s = res.body.source.status as { lastError?: string } | null;
      return s?.lastError ? s : undefined;
    }, { timeoutMs: 10_000, message: "the failing source's status" });
    assert.match(String(status.lastError), /token=\[redacted\]/);

    const list = await api<{ sources: SourceView[] }>(un.url, "GET", "/un/sources");
    const one = await api(un.url, "GET", "/un/sources/blog");
    const events = await history(un, "source.*");
    const items = await history(un, "feed.item.new");
    assert.ok(events.some((e) => e.type === "source.created" && e.subject === "blog"));
    assert.equal((items[0].data as { feedUrl: string }).feedUrl, shown);
    await new Promise((r) => setTimeout(r, 500)); // a few failed polls logged
    const seen = {
      "GET /un/sources": JSON.stringify(list.body),
      "GET /un/sources/blog": JSON.stringify(one.body),
      "source.* events": JSON.stringify(events),
      "feed.item.new events": JSON.stringify(items),
      "the log": un.stderrText() + un.stdoutLines.join("\n"),
    };
    assert.match(seen["the log"], /token=\[redacted\]/, "the failing poll is logged, redacted");
    for (const [where, text] of Object.entries(seen)) {
      assert.ok(!text.includes(secret), `${where} shows the secret: ${text.slice(0, 2000)}`);
    }
    assert.ok(seen["GET /un/sources"].includes("api_key=[redacted]"), "parameter names stay");
  } finally {
    await blog.server.shutdown();
  }
});
