/**
 * Managing sources at run time against a real `un start`: `PATCH
 * /un/sources/:id` changes a feed source's interval in place (its seen items
 * stay, so nothing is announced again, and `source.updated` carries both
 * definitions, redacted), refuses bad changes naming the field, and `POST
 * /un/sources/:id/process` gives exactly one forced `file.modified` for an
 * unchanged file, refusing paths outside the root. Also `un sources update`
 * and `un sources process`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import type { SourceView } from "../lib/sources/manage.ts";
import { runCli } from "./helpers/cli.ts";
import { eventually } from "./helpers/eventually.ts";
import { history } from "./helpers/events.ts";
import { feedServer, itemsOf } from "./helpers/feed-server.ts";
import { api } from "./helpers/http.ts";
import { startUn } from "./helpers/un-process.ts";

type ErrorBody = { error: { code: string; message: string; details: { field?: string } } };

Deno.test("PATCH on a feed source's interval re-announces no item; bad changes are 400s naming the field", async () => {
  const blog = feedServer(["a", "b"]);
  await using un = await startUn({ config: { http: { allow: ["127.0.0.1"] } } });
  try {
    const added = await api(un.url, "POST", "/un/sources/add", {
      id: "blog",
      kind: "feed",
      url: `${blog.url}?api_key=s3cret`,
      interval: "1h",
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    await eventually(async () => (await itemsOf(un, "blog")).length === 2, {
      timeoutMs: 10_000,
      message: "the first poll's two items",
    });

    const patched = await api<{ source: SourceView }>(un.url, "PATCH", "/un/sources/blog", {
      interval: "200ms",
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.source.spec.interval, 200);
    // The scanner restarted with the new interval: several polls, and no item again.
    const before = blog.feed.requests;
    await eventually(() => blog.feed.requests >= before + 4, {
      timeoutMs: 10_000,
      message: "polls every 200 ms",
    });
    assert.deepEqual((await itemsOf(un, "blog")).sort(), ["a", "b"]);
    blog.feed.items.push("c");
    await eventually(async () => (await itemsOf(un, "blog")).length === 3, {
      message: "the new item",
    });
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual((await itemsOf(un, "blog")).sort(), ["a", "b", "c"]);

    const [updated] = await history(un, "source.updated");
    assert.equal(updated.subject, "blog");
    type Record = { spec: { interval: number; url: string } };
    const data = updated.data as { previous: Record; current: Record; source: Record };
    assert.equal(data.previous.spec.interval, 3_600_000);
    assert.equal(data.current.spec.interval, 200);
    assert.deepEqual(data.source, data.current);
    assert.match(data.previous.spec.url, /api_key=\[redacted\]$/);
    assert.ok(!JSON.stringify(updated).includes("s3cret"), "secrets redacted");

    const refused: [unknown, string][] = [
      [{ kind: "http" }, "kind"],
      [{ id: "other" }, "id"],
      [{ interval: "1ms" }, "interval"],
      [{ intervall: "5s" }, "intervall"],
      [{ url: "ftp://127.0.0.1/feed" }, "url"],
    ];
    for (const [body, field] of refused) {
      const res = await api<ErrorBody>(un.url, "PATCH", "/un/sources/blog", body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      assert.ok(
        res.body.error.details.field === field || res.body.error.message.includes(field),
        `${JSON.stringify(body)} names ${field}: ${JSON.stringify(res.body)}`,
      );
    }
    const bodyNotObject = await api<ErrorBody>(un.url, "PATCH", "/un/sources/blog", [1]);
    assert.equal(bodyNotObject.status, 400);
    assert.equal((await api(un.url, "PATCH", "/un/sources/nope", { interval: "1s" })).status, 404);
    // A new URL is admitted again, as an added one: a host http.allow leaves out is refused.
    const elsewhere = await api<ErrorBody>(un.url, "PATCH", "/un/sources/blog", {
      url: "http://10.1.2.3/feed",
    });
    assert.equal(elsewhere.status, 400, JSON.stringify(elsewhere.body));
    assert.equal(elsewhere.body.error.details.field, "url");
    const stored = await api<{ source: SourceView }>(un.url, "GET", "/un/sources/blog");
    assert.equal(stored.body.source.spec.interval, 200, "refused changes change nothing");

    const cli = await runCli(["sources", "update", "blog", "--interval", "1h"], { UN_URL: un.url });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /updated source blog/);
    const after = await api<{ source: SourceView }>(un.url, "GET", "/un/sources/blog");
    assert.equal(after.body.source.spec.interval, 3_600_000);
  } finally {
    await blog.server.shutdown();
  }
});

Deno.test("force-process gives exactly one forced file.modified for an unchanged file", async () => {
  const outside = await Deno.makeTempDir({ prefix: "un-outside-" });
  await Deno.writeTextFile(join(outside, "secret.txt"), "not yours");
  const inbox = await Deno.makeTempDir({ prefix: "un-inbox-" });
  await Deno.writeTextFile(join(inbox, "a.txt"), "hello");
  await Deno.mkdir(join(inbox, "sub"));
  await Deno.writeTextFile(join(inbox, "sub", "b.txt"), "deeper");
  await Deno.symlink(join(outside, "secret.txt"), join(inbox, "escape.txt"));
  const blog = feedServer([]);
  await using un = await startUn({
    config: {
      sources: [
        { id: "inbox", kind: "fs", path: inbox, debounceMs: 20, exclude: ["escape.txt"] },
        { id: "blog", kind: "feed", url: blog.url, interval: "1h" },
      ],
    },
  });
  try {
    const ofInbox = (events: CloudEvent[], path: string) =>
      events.filter((e) => e.source === "/un/sources/inbox" && e.subject === path);
    await eventually(async () => ofInbox(await history(un, "file.created"), "a.txt").length === 1, {
      message: "a.txt seen at start",
    });

    const res = await api<{ event: CloudEvent }>(un.url, "POST", "/un/sources/inbox/process", {
      path: "a.txt",
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.event.type, "file.modified");
    assert.equal(res.body.event.priority, "high");
    assert.equal((res.body.event.data as { forced?: boolean }).forced, true);
    await new Promise((r) => setTimeout(r, 500));
    const modified = ofInbox(await history(un, "file.modified"), "a.txt");
    assert.equal(modified.length, 1, JSON.stringify(modified));
    assert.equal(modified[0].id, res.body.event.id);

    const nested = await api<{ event: CloudEvent }>(un.url, "POST", "/un/sources/inbox/process", {
      path: join(inbox, "sub", "b.txt"),
      priority: "low",
    });
    assert.equal(nested.status, 200, JSON.stringify(nested.body));
    assert.equal(nested.body.event.subject, "sub/b.txt");
    assert.equal(nested.body.event.priority, "low");

    for (
      const path of [
        "../x",
        "sub/../a.txt",
        join(outside, "secret.txt"),
        "escape.txt",
        "nope.txt",
        "sub",
      ]
    ) {
      const bad = await api<ErrorBody>(un.url, "POST", "/un/sources/inbox/process", { path });
      assert.equal(bad.status, 400, `${path}: ${JSON.stringify(bad.body)}`);
      assert.equal(bad.body.error.details.field, "path", path);
    }
    const missingPath = await api<ErrorBody>(un.url, "POST", "/un/sources/inbox/process", {});
    assert.equal(missingPath.status, 400);
    const notFs = await api(un.url, "POST", "/un/sources/blog/process", { path: "a.txt" });
    assert.equal(notFs.status, 409, JSON.stringify(notFs.body));
    const unknown = await api(un.url, "POST", "/un/sources/nope/process", { path: "a.txt" });
    assert.equal(unknown.status, 404);

    const cli = await runCli(["sources", "process", "inbox", "a.txt"], { UN_URL: un.url });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /processed a\.txt of source inbox/);
    await eventually(
      async () => ofInbox(await history(un, "file.modified"), "a.txt").length === 2,
      {
        message: "the CLI's forced event",
      },
    );
  } finally {
    await blog.server.shutdown();
    await Deno.remove(inbox, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("a manual scan's events are high priority unless asked otherwise; GET shows the scans left", async () => {
  const blog = feedServer(["a"]);
  const inbox = await Deno.makeTempDir({ prefix: "un-scan-priority-" });
  await using un = await startUn({
    config: {
      api: { scanLimit: { max: 3, windowMs: 60_000 } },
      sources: [
        { id: "blog", kind: "feed", url: blog.url, interval: "1h", emitExisting: false },
        // The watcher's changes wait a minute: a manual scan finds the file first.
        { id: "inbox", kind: "fs", path: inbox, debounceMs: 60_000, maxDelayMs: 60_000 },
      ],
    },
  });
  try {
    const fresh = await api<{ manualScans: { left: number; max: number } }>(
      un.url,
      "GET",
      "/un/sources/blog",
    );
    assert.equal(fresh.body.manualScans.left, 3);
    await eventually(() => blog.feed.requests >= 1, { message: "the baseline poll" });

    blog.feed.items.push("b");
    assert.equal((await api(un.url, "POST", "/un/sources/blog/scan")).status, 200);
    blog.feed.items.push("c");
    const low = await api(un.url, "POST", "/un/sources/blog/scan", { priority: "low" });
    assert.equal(low.status, 200, JSON.stringify(low.body));
    const items = await history(un, "feed.item.new");
    const priorityOf = (title: string) =>
      items.find((e) => (e.data as { title?: string }).title === title)?.priority;
    assert.equal(priorityOf("b"), "high");
    assert.equal(priorityOf("c"), "low");

    const left = await api<{ manualScans: { left: number; nextSlotInMs: number | null } }>(
      un.url,
      "GET",
      "/un/sources/blog",
    );
    assert.equal(left.body.manualScans.left, 1);
    assert.ok((left.body.manualScans.nextSlotInMs ?? 0) > 50_000);

    await Deno.writeTextFile(join(inbox, "new.txt"), "found by the scan");
    const scanned = await api<{ scan: { changes: number } }>(
      un.url,
      "POST",
      "/un/sources/inbox/scan",
    );
    assert.equal(scanned.body.scan.changes, 1, JSON.stringify(scanned.body));
    const [created] = (await history(un, "file.created")).filter((e) => e.subject === "new.txt");
    assert.equal(created?.priority, "high");
  } finally {
    await blog.server.shutdown();
    await Deno.remove(inbox, { recursive: true });
  }
});
