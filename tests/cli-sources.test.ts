/**
 * Sources from the `un` CLI, black-box: a real `un start`, a real RSS feed on
 * loopback, `un sources` (list, add, enable, disable, rm) and `un scan`
 * (rate limited like the API), with their exit codes.
 */

import assert from "node:assert/strict";
import type { SourceView } from "../lib/sources/manage.ts";
import type { ScanRecord } from "../lib/sources/scan-history.ts";
import { type CliResult, runCli } from "./helpers/cli.ts";
import { feedServer, itemsOf } from "./helpers/feed-server.ts";
import { api } from "./helpers/http.ts";
import { startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const cli = (args: string[], url: string) => runCli(args, { UN_URL: url });

Deno.test("CLI: un sources (list, add, enable, disable, rm) and un scan", async () => {
  const blog = feedServer(["p"]);
  await using un = await startUn({
    config: { api: { scanLimit: { max: 2 } }, http: { allow: ["127.0.0.1"] } },
  });
  try {
    const show = (r: CliResult) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
    const added = await cli(
      ["sources", "add", "feed", "--id", "blog", "--url", blog.url, "--interval", "1h"],
      un.url,
    );
    assert.equal(added.code, 0, show(added));
    assert.match(added.stdout, /added source blog \(feed\)/);
    const fromJson = await cli(
      ["sources", "add", "--json", JSON.stringify({ id: "j", kind: "feed", url: blog.url })],
      un.url,
    );
    assert.equal(fromJson.code, 0, show(fromJson));

    const list = await cli(["sources"], un.url);
    assert.equal(list.code, 0, show(list));
    assert.match(list.stdout, /^ID\s+KIND\s+ENABLED\s+ORIGIN\s+LAST SCAN\s+LAST ERROR/);
    assert.match(list.stdout, /\nblog\s+feed\s+yes\s+api\s/);
    const json = JSON.parse((await cli(["sources", "--json"], un.url)).stdout);
    assert.deepEqual(json.sources.map((s: SourceView) => s.id).sort(), ["blog", "j"]);

    blog.feed.items.push("q");
    await eventually(async () => (await itemsOf(un, "blog")).length >= 1, {
      timeoutMs: 10_000,
      message: "first poll",
    });
    const scanned = await cli(["scan", "blog"], un.url);
    assert.equal(scanned.code, 0, show(scanned));
    assert.match(scanned.stdout, /blog: \d+ changes? in \d+ms/);
    assert.equal((await cli(["scan", "blog"], un.url)).code, 0);
    const limited = await cli(["scan", "blog"], un.url);
    assert.equal(limited.code, 1, show(limited));
    assert.match(limited.stderr, /retry in \d+s/);
    const scans = await api<{ scans: ScanRecord[] }>(un.url, "GET", "/un/sources/blog/scans");
    assert.deepEqual(scans.body.scans.map((s) => s.requestedBy), ["cli", "cli"]);

    const all = await cli(["scan"], un.url);
    assert.equal(all.code, 1, show(all));
    assert.match(all.stdout, /j: \d+ changes?/);
    assert.match(all.stdout, /blog: rate_limited/);

    assert.equal((await cli(["sources", "disable", "blog"], un.url)).code, 0);
    assert.match((await cli(["sources"], un.url)).stdout, /\nblog\s+feed\s+no\s/);
    assert.equal((await cli(["sources", "enable", "blog"], un.url)).code, 0);
    const rm = await cli(["sources", "rm", "blog"], un.url);
    assert.equal(rm.code, 0, show(rm));
    assert.match(rm.stdout, /removed source blog/);
    const missing = await cli(["sources", "rm", "blog"], un.url);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /source blog not found \(404 not_found\)/);

    const bad = await cli(["sources", "add", "feed", "--url", "x"], un.url);
    assert.equal(bad.code, 1, show(bad));
    assert.match(bad.stderr, /url must be an http\(s\) URL/);
    for (
      const args of [
        ["sources", "frob"],
        ["sources", "add"],
        ["sources", "rm"],
        ["sources", "add", "feed", "--interval"],
        ["scan", "a", "b"],
      ]
    ) {
      const usage = await cli(args, un.url);
      assert.equal(usage.code, 2, `${args.join(" ")}: ${show(usage)}`);
      assert.equal(usage.stderr.trimEnd().split("\n").length, 1, show(usage));
    }
  } finally {
    await blog.server.shutdown();
  }
});
