/**
 * A poll scanner whose source lease moved on (its process stalled past the
 * lease and another took the source over) publishes and commits nothing of
 * what it found: the new holder finds the same changes and publishes them
 * once. A real feed server on loopback, the real poll scanner, a real store.
 */

import assert from "node:assert/strict";
import { sourceLease } from "../lib/sources/lease.ts";
import { openStore, serve, sleep, source, startScanners } from "./helpers/poll-scanner.ts";
import { eventually } from "./helpers/eventually.ts";

const RSS = Deno.readFileSync(new URL("./fixtures/feeds/rss2.xml", import.meta.url));

Deno.test("a scanner under a lease that moved leaves its changes to the new holder", async () => {
  const server = serve(() =>
    new Response(RSS, { headers: { "content-type": "application/rss+xml" } })
  );
  const { store, close } = await openStore();
  const name = sourceLease("blog");
  const spec = source({ id: "blog", kind: "feed", url: `${server.url}/feed`, interval: "1h" });
  try {
    const now = Date.now();
    const stale = await store.acquireLease(name, "stalled-process", 1, now - 10);
    const fresh = await store.acquireLease(name, "new-holder", 60_000, now);
    assert.deepEqual([stale, fresh], [1, 2], "fences");

    const stalled = startScanners(store, [spec], { blog: { name, fence: stale! } });
    // Its first poll found the feed's three items; the lease check refused them.
    await eventually(async () => (await stalled.scan("blog").catch((e) => e)) instanceof Error, {
      intervalMs: 10,
      message: "refusal",
    });
    await sleep(50);
    await stalled.stop();
    assert.deepEqual(stalled.events.length, 0, "events of the stalled scanner");
    assert.deepEqual(await stalled.status("blog"), null, "status written by the stalled scanner");

    const holder = startScanners(store, [spec], { blog: { name, fence: fresh! } });
    await eventually(() => holder.events.length >= 3, {
      intervalMs: 10,
      message: "the holder's three items",
    });
    await sleep(50);
    await holder.stop();
    assert.deepEqual(holder.events.map((e) => e.type), Array(3).fill("feed.item.new"));
  } finally {
    await server.close();
    await close();
  }
});
