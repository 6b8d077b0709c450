/**
 * Feed sources, end to end: a real feed server on loopback, the real poll
 * scanner under a test parent, a real SqliteStore.
 */

import assert from "node:assert/strict";
import { openStore, serve, source, startScanners } from "./helpers/poll-scanner.ts";
import { eventually } from "./helpers/eventually.ts";

const FIXTURES = new URL("./fixtures/feeds/", import.meta.url);
const fixture = (name: string): Uint8Array<ArrayBuffer> =>
  Deno.readFileSync(new URL(name, FIXTURES));

type ItemData = { id: string; title: string | null; link: string | null; author: string | null };
const dataOf = (e: { data: unknown }) => e.data as ItemData;

Deno.test("each feed dialect gives one feed.item.new per item, text decoded by its charset", async () => {
  const files: Record<string, { body: Uint8Array<ArrayBuffer>; type: string }> = {
    "/rss2": { body: fixture("rss2.xml"), type: "application/rss+xml; charset=utf-8" },
    "/rdf": { body: fixture("rdf.xml"), type: "application/rdf+xml" },
    "/atom": { body: fixture("atom.xml"), type: "application/atom+xml" },
    "/rss091": { body: fixture("rss091.xml"), type: "text/xml" },
    // The charset only in the XML declaration, then only in Content-Type.
    "/latin1-decl": { body: fixture("latin1.xml"), type: "application/rss+xml" },
    "/latin1-header": { body: fixture("latin1.xml"), type: "text/xml; charset=ISO-8859-1" },
  };
  const server = serve((req) => {
    const file = files[new URL(req.url).pathname];
    return file
      ? new Response(file.body, { headers: { "content-type": file.type } })
      : new Response("not found", { status: 404 });
  });
  const { store, close } = await openStore();
  const ids = Object.keys(files).map((path) => path.slice(1));
  const run = startScanners(
    store,
    ids.map((id) => source({ id, kind: "feed", url: `${server.url}/${id}`, interval: "1h" })),
  );
  try {
    const expected: Record<string, number> = {
      rss2: 3,
      rdf: 2,
      atom: 2,
      rss091: 3,
      "latin1-decl": 2,
      "latin1-header": 2,
    };
    const total = Object.values(expected).reduce((a, b) => a + b, 0);
    await eventually(() => run.events.length >= total, {
      intervalMs: 10,
      message: `${total} feed.item.new events`,
    });
    const bySource = (id: string) => run.events.filter((e) => e.source === `/un/sources/${id}`);
    for (const [id, count] of Object.entries(expected)) {
      assert.deepEqual(bySource(id).length, count, `items of ${id}`);
      assert.ok(bySource(id).every((e) => e.type === "feed.item.new"), `${id}: only feed.item.new`);
    }

    // Oldest first, with the fields a hook needs.
    const rss2 = bySource("rss2").map(dataOf);
    assert.deepEqual(rss2.map((d) => d.id), [
      "https://deno.example/blog/v2.0",
      "deno-blog-v2.1",
      "deno-blog-v2.2",
    ]);
    assert.deepEqual(rss2[2].author, "Bartek Iwańczuk");
    assert.deepEqual(bySource("rss2")[2].subject, "https://deno.example/blog/v2.2");
    const first = bySource("rss2")[2].data as Record<string, unknown>;
    assert.deepEqual(first.feedUrl, `${server.url}/rss2`);
    assert.deepEqual(first.published, "2025-02-18T16:00:00.000Z");
    assert.ok(
      String(first.summary).startsWith("Deno 2.2 is out with built-in OpenTelemetry"),
      "summary is text",
    );

    assert.deepEqual(bySource("rdf").map((e) => dataOf(e).id), [
      "https://bob.example/posts/xstate-actors",
      "https://alice.example/2025/03/sqlite-wal",
    ]);
    assert.deepEqual(
      dataOf(bySource("atom")[1]).id,
      "tag:github.com,2008:Repository/133442384/v2.2.3",
    );
    assert.deepEqual(
      bySource("atom")[1].subject,
      "https://github.com/denoland/deno/releases/tag/v2.2.3",
    );
    assert.deepEqual(dataOf(bySource("atom")[1]).author, "denobot");

    // No guid: link + title hash; two items sharing a link stay two items.
    const old = bySource("rss091").map(dataOf);
    assert.deepEqual(new Set(old.map((d) => d.id)).size, 3, "distinct ids without guids");
    assert.ok(old.every((d) => d.id.startsWith(d.link + "#")), "id is link#hash");

    for (const id of ["latin1-decl", "latin1-header"]) {
      assert.deepEqual(
        bySource(id).map((e) => dataOf(e).title),
        ["Café au lait: ça coûte combien?", "Crème brûlée à la une"],
        `${id} decoded`,
      );
    }

    // Identity is stable: polling again announces nothing.
    for (const id of ids) assert.deepEqual(await run.scan(id), { changes: 0 }, `rescan ${id}`);
    assert.deepEqual(run.events.length, total, "no repeats");
    assert.deepEqual(run.crashes, []);
  } finally {
    await run.stop();
    await close();
    await server.close();
  }
});

Deno.test("a feed gaining two items gives exactly two events; a restart gives none", async () => {
  let body = fixture("rss2.xml");
  let requests = 0;
  // No validators: every poll is a full 200, so dedupe is by the stored ids alone.
  const server = serve(() => {
    requests++;
    return new Response(body, { headers: { "content-type": "application/rss+xml" } });
  });
  const { store, close } = await openStore();
  const spec = source({ id: "blog", kind: "feed", url: `${server.url}/feed.xml`, interval: "1h" });
  let run = startScanners(store, [spec]);
  try {
    await eventually(() => run.events.length === 3, {
      intervalMs: 10,
      message: "the first 3 items",
    });
    body = fixture("rss2-updated.xml");
    assert.deepEqual(await run.scan("blog"), { changes: 2 });
    assert.deepEqual(run.events.length, 5);
    assert.deepEqual(run.events.slice(3).map((e) => dataOf(e).id), [
      "deno-blog-v2.3",
      "deno-blog-v2.4",
    ]);
    await run.stop();

    // A new actor on the same store: the items are known.
    run = startScanners(store, [spec]);
    const before = requests;
    assert.deepEqual(await run.scan("blog"), { changes: 0 });
    assert.ok(requests > before, "the restarted scanner fetched the feed");
    assert.deepEqual(run.events, [], "no event after the restart");
    assert.deepEqual(run.crashes, []);
  } finally {
    await run.stop();
    await close();
    await server.close();
  }
});

Deno.test("an unchanged feed is answered 304 (no body to parse) and gives no event, also after a restart", async () => {
  const etag = '"rss2-v1"';
  const lastModified = "Tue, 04 Mar 2025 16:00:00 GMT";
  const seen: Array<{ inm: string | null; ims: string | null; status: number }> = [];
  const server = serve((req) => {
    const inm = req.headers.get("if-none-match");
    const ims = req.headers.get("if-modified-since");
    const status = inm === etag ? 304 : 200;
    seen.push({ inm, ims, status });
    return status === 304
      ? new Response(null, { status, headers: { etag } })
      : new Response(fixture("rss2.xml"), {
        headers: { "content-type": "application/rss+xml", etag, "last-modified": lastModified },
      });
  });
  const { store, close } = await openStore();
  const spec = source({ id: "cond", kind: "feed", url: server.url, interval: "1h" });
  let run = startScanners(store, [spec]);
  try {
    await eventually(() => run.events.length === 3, {
      intervalMs: 10,
      message: "the first 3 items",
    });
    assert.deepEqual(await run.scan("cond"), { changes: 0 });
    assert.deepEqual(seen.map((s) => s.status), [200, 304]);
    assert.deepEqual(seen[1], { inm: etag, ims: lastModified, status: 304 });
    await run.stop();

    run = startScanners(store, [spec]);
    assert.deepEqual(await run.scan("cond"), { changes: 0 });
    assert.deepEqual(
      seen.at(-1),
      { inm: etag, ims: lastModified, status: 304 },
      "validators survive a restart",
    );
    assert.deepEqual(run.events.map((event) => event.type), []);
    assert.deepEqual((await run.status("cond"))?.lastError, null);
  } finally {
    await run.stop();
    await close();
    await server.close();
  }
});

Deno.test("emitExisting false records the current items silently, then announces only new ones", async () => {
  let body = fixture("rss2.xml");
  const server = serve(() =>
    new Response(body, { headers: { "content-type": "application/rss+xml" } })
  );
  const { store, close } = await openStore();
  const run = startScanners(store, [
    source({ id: "quiet", kind: "feed", url: server.url, interval: "1h", emitExisting: false }),
  ]);
  try {
    await eventually(async () => (await run.status("quiet"))?.lastScanAt, {
      intervalMs: 10,
      message: "the baseline poll",
    });
    assert.deepEqual(run.events.map((event) => event.type), []);
    body = fixture("rss2-updated.xml");
    assert.deepEqual(await run.scan("quiet"), { changes: 2 });
    assert.deepEqual(run.events.map((e) => dataOf(e).title), [
      "Deno 2.3: improved deno compile",
      "Deno 2.4: deno bundle is back",
    ]);
  } finally {
    await run.stop();
    await close();
    await server.close();
  }
});

Deno.test("a failing feed backs off exponentially, shows its last error, and recovers", async () => {
  const hits: number[] = [];
  let failing = true;
  const server = serve(() => {
    hits.push(Date.now());
    return failing
      ? new Response("upstream exploded", { status: 502, statusText: "Bad Gateway" })
      : new Response(fixture("atom.xml"), { headers: { "content-type": "application/atom+xml" } });
  });
  const { store, close } = await openStore();
  const run = startScanners(store, [
    source({ id: "flaky", kind: "feed", url: server.url, interval: 100 }),
  ]);
  try {
    await eventually(() => hits.length >= 4, {
      timeoutMs: 8_000,
      intervalMs: 10,
      message: "four failed polls",
    });
    const status = await eventually(async () => {
      const s = await run.status("flaky");
      return s && s.failures >= 3 ? s : null;
    }, { intervalMs: 10, message: "status with 3 failures" });
    assert.deepEqual(status.lastError, "HTTP 502 Bad Gateway");
    assert.ok(status.lastErrorAt !== null && status.nextPollAt !== null, "times recorded");
    // Waits of 200, 400, 800ms (interval · 2^failures): each gap about doubles.
    const gaps = hits.slice(1, 4).map((t, i) => t - hits[i]);
    assert.ok(gaps[0] >= 180 && gaps[1] >= 380 && gaps[2] >= 780, `gaps grow: ${gaps}`);
    assert.ok(gaps[2] > gaps[0] * 2, `gaps keep growing: ${gaps}`);
    assert.deepEqual(run.events.map((event) => event.type), []);

    failing = false;
    await eventually(() => run.events.length === 2, {
      timeoutMs: 8_000,
      intervalMs: 10,
      message: "the items once the feed works",
    });
    // The status is saved right after the events are logged.
    const healthy = await eventually(async () => {
      const s = await run.status("flaky");
      return s?.failures === 0 ? s : null;
    }, { intervalMs: 10, message: "a healthy status" });
    assert.deepEqual(healthy.lastError, null);
    assert.ok(healthy.lastChangeAt !== null, "lastChangeAt set");
    assert.deepEqual(run.crashes, [], "a failing poll never crashes the scanner");
  } finally {
    await run.stop();
    await close();
    await server.close();
  }
});

Deno.test("an unparsable body or a refused connection fails the scan with a clear error", async () => {
  const server = serve(() =>
    new Response("<html><body>Login required</body></html>", {
      headers: { "content-type": "text/html" },
    })
  );
  const refused = serve(() => new Response("gone"));
  const refusedUrl = refused.url;
  await refused.close();
  const { store, close } = await openStore();
  const run = startScanners(store, [
    source({ id: "html", kind: "feed", url: server.url, interval: "1h" }),
    source({ id: "down", kind: "feed", url: refusedUrl, interval: "1h" }),
  ]);
  try {
    await eventually(async () => (await run.status("html"))?.failures, {
      intervalMs: 10,
      message: "the html poll failing",
    });
    await eventually(async () => (await run.status("down"))?.failures, {
      intervalMs: 10,
      message: "the refused poll failing",
    });
    assert.ok(
      (await run.status("html"))?.lastError?.startsWith("not a feed:"),
      "unparsable reported",
    );
    const error = await run.scan("html").then(() => null, (e: Error) => e);
    assert.ok(error?.message.startsWith("not a feed:"), `scan rejects: ${error?.message}`);
    const down = await run.status("down");
    assert.ok(
      down?.lastError && /refused|connect/i.test(down.lastError),
      `refused: ${down?.lastError}`,
    );
    assert.deepEqual(run.events.map((event) => event.type), []);
    assert.deepEqual(run.crashes, []);
  } finally {
    await run.stop();
    await close();
    await server.close();
  }
});
