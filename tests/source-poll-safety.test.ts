/**
 * Sources added at run time stay inside `http.allow` while they poll, not
 * only when added: every poll checks the URL and each redirect (a redirect
 * to a host the list does not cover fails the poll, and that host is never
 * asked), and a postgres source's host is checked before each connection.
 * Config-file sources are the operator's own and follow their redirects.
 *
 * 127.0.0.2 is loopback on Linux (reachable) but outside `127.0.0.1/32`.
 */

import assert from "node:assert/strict";
import pg from "pg";
import type { SourceView } from "../lib/sources/manage.ts";
import { history } from "./helpers/events.ts";
import { feedServer, itemsOf } from "./helpers/feed-server.ts";
import { api } from "./helpers/http.ts";
import { startUn, type UnProcess } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";
import { PG_URL, pgReachable } from "./helpers/postgres.ts";

type Status = {
  lastScanAt: number | null;
  lastError: string | null;
  failures: number;
  nextPollAt: number | null;
};

const RSS = `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>` +
  `<link>https://blog.example/</link><description>d</description>` +
  `<item><title>moved</title><guid>moved</guid></item></channel></rss>`;

/** A server on `hostname` that records the paths asked and answers with `handler`. */
function recording(hostname: string, handler: (url: URL) => Response) {
  const paths: string[] = [];
  const server = Deno.serve({ hostname, port: 0, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    paths.push(url.pathname);
    return handler(url);
  });
  const { port } = server.addr as Deno.NetAddr;
  return { paths, server, base: `http://${hostname}:${port}` };
}

async function statusOf(un: UnProcess, id: string): Promise<Status | null> {
  const res = await api<{ source: SourceView }>(un.url, "GET", `/un/sources/${id}`);
  assert.equal(res.status, 200, `source ${id} is still there: ${JSON.stringify(res.body)}`);
  return res.body.source.status as Status | null;
}

/** The status of a source once its polls have failed `failures` times in a row. */
function failedStatus(un: UnProcess, id: string, failures = 1): Promise<Status> {
  return eventually(async () => {
    const status = await statusOf(un, id);
    return status && status.failures >= failures && status.lastError ? status : undefined;
  }, { timeoutMs: 10_000, message: `${failures} failed poll(s) of ${id}` });
}

Deno.test("run-time http, feed and github sources: a redirect outside http.allow fails the poll; config sources follow theirs", async () => {
  const target = recording(
    "127.0.0.2",
    () => new Response(RSS, { headers: { "content-type": "application/rss+xml" } }),
  );
  // /to/<path> answers 302 to the same path on 127.0.0.2.
  const redirector = recording("127.0.0.1", (url) =>
    new Response(null, {
      status: 302,
      headers: { location: `${target.base}/${url.pathname.slice("/to/".length)}` },
    }));
  try {
    await using un = await startUn({
      config: {
        http: { allow: ["127.0.0.1/32"] },
        sources: [{
          id: "own",
          kind: "feed",
          url: `${redirector.base}/to/own.xml`,
          interval: "200ms",
          emitExisting: true,
        }],
      },
    });
    const add = (body: Record<string, unknown>) =>
      api(un.url, "POST", "/un/sources/add", { interval: "200ms", ...body });
    for (
      const body of [
        { id: "mon", kind: "http", url: `${redirector.base}/to/api-http?token=s3cret` },
        { id: "blog", kind: "feed", url: `${redirector.base}/to/api-feed`, emitExisting: true },
        { id: "gh", kind: "github", repo: "o/r", apiUrl: `${redirector.base}/to/api-gh` },
      ]
    ) {
      const added = await add(body);
      assert.equal(added.status, 201, JSON.stringify(added.body));
    }

    const refused = [["mon", "api-http"], ["blog", "api-feed"], ["gh", "api-gh/repos/o/r/commits"]];
    for (const [id, path] of refused) {
      const status = await failedStatus(un, id, 2);
      const refusal = new RegExp(
        `^redirect to ${target.base.replaceAll(".", "\\.")}/${path}: host 127\\.0\\.0\\.2 ` +
          `is not allowed by http\\.allow \\(\\["127\\.0\\.0\\.1/32"\\]\\)`,
      );
      assert.match(String(status.lastError), refusal, `${id}'s last error`);
      // Failures back off as other poll failures do: interval · 2^failures.
      assert.ok(
        status.nextPollAt! - status.lastScanAt! >= 200 * 2 ** status.failures,
        `${id} backs off: ${JSON.stringify(status)}`,
      );
    }
    assert.ok(redirector.paths.includes("/to/api-http"), "the http source was polled");
    assert.ok(redirector.paths.includes("/to/api-feed"), "the feed source was polled");
    assert.ok(redirector.paths.includes("/to/api-gh/repos/o/r/commits"), "github was polled");

    // The config source followed its redirect to 127.0.0.2 and read the feed there.
    await eventually(async () => (await itemsOf(un, "own")).length === 1, {
      timeoutMs: 10_000,
      message: "own's item",
    });
    assert.equal((await statusOf(un, "own"))?.lastError ?? null, null);

    assert.deepEqual(
      target.paths.filter((p) => p !== "/own.xml"),
      [],
      "127.0.0.2 is asked only by the config source",
    );
    assert.deepEqual(await itemsOf(un, "blog"), [], "the refused feed announced nothing");
    const outage = (await history(un, "http.*")).filter((e) => e.source === "/un/sources/mon");
    assert.deepEqual(
      outage,
      [],
      "a refused poll is a failure of un, not an outage of the endpoint",
    );
    const log = un.stderrText();
    assert.match(log, /poll failed/);
    assert.match(log, /host 127\.0\.0\.2 is not allowed by http\.allow/);
    assert.ok(!log.includes("s3cret"), "the log shows no query value");
  } finally {
    await redirector.server.shutdown();
    await target.server.shutdown();
  }
});

/** Backends of this source's connections (pg's application_name is `un:<id>`). */
async function backendsOf(id: string): Promise<number> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1",
      [`un:${id}`],
    );
    return rows[0].n;
  } finally {
    await client.end();
  }
}

Deno.test("run-time sources are checked at every poll and connection, not only when added", async () => {
  const blog = feedServer(["one"]);
  // The postgres half is left out without a test database.
  const withPostgres = await pgReachable();
  const db = `db-poll-safety-${crypto.randomUUID().slice(0, 8)}`;
  let first: UnProcess | null = await startUn({ config: { http: { allow: ["127.0.0.1/32"] } } });
  const dir = first.dir;
  try {
    const added = await api(first.url, "POST", "/un/sources/add", {
      id: "blog",
      kind: "feed",
      url: blog.url,
      interval: "200ms",
      emitExisting: true,
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    await eventually(async () => (await itemsOf(first!, "blog")).length === 1, {
      timeoutMs: 10_000,
      message: "item",
    });
    if (withPostgres) {
      const pgAdded = await api(first.url, "POST", "/un/sources/add", {
        id: db,
        kind: "postgres",
        url: PG_URL,
        tables: ["un_poll_safety_missing"],
      });
      assert.equal(pgAdded.status, 201, JSON.stringify(pgAdded.body));
      // Allowed: it runs and records a status (the missing table is a problem in
      // status, not a refusal).
      await eventually(() => statusOf(first!, db), {
        timeoutMs: 10_000,
        message: "a status of the allowed source",
      });
    }
    await first.stop();
    first = null;

    // The same store under a narrower http.allow, as when a name now resolves elsewhere.
    await using again = await startUn({ cwd: dir, config: { http: { allow: ["127.0.0.2/32"] } } });
    const asked = blog.feed.requests;
    const status = await failedStatus(again, "blog", 2);
    assert.match(
      String(status.lastError),
      /^url: host 127\.0\.0\.1 is not allowed by http\.allow \(\["127\.0\.0\.2\/32"\]\)/,
    );
    assert.equal(blog.feed.requests, asked, "the feed is not asked once refused");
    if (withPostgres) {
      const pgStatus = await failedStatus(again, db);
      assert.match(String(pgStatus.lastError), /^url: host 127\.0\.0\.1 is not allowed/);
      assert.equal(await backendsOf(db), 0, "no connection was opened");
    }
  } finally {
    await first?.stop();
    await blog.server.shutdown();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
