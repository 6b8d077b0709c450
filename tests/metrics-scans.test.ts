/**
 * `un_source_scan_seconds` counts the periodic scans too, not only the ones
 * asked for: against a real `un start` with an HTTP monitor polling a local
 * endpoint and an fs source rescanning a directory, each on a short interval,
 * the histogram's count grows with no manual scan at all.
 */

import assert from "node:assert/strict";
import { scrape } from "./helpers/prometheus.ts";
import { startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

/** `un_source_scan_seconds_count` of one source, 0 while it has no series. */
function scans(text: string, source: string): number {
  const found = new RegExp(`^un_source_scan_seconds_count\\{source="${source}"\\} (\\d+)$`, "m")
    .exec(text);
  return found ? Number(found[1]) : 0;
}

Deno.test("periodic polls and rescans count in un_source_scan_seconds", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("ok"),
  );
  const watched = await Deno.makeTempDir({ prefix: "un-scan-metrics-" });
  try {
    await using un = await startUn({
      config: {
        sources: [
          {
            id: "site",
            kind: "http",
            url: `http://127.0.0.1:${server.addr.port}/health`,
            interval: "200ms",
          },
          { id: "inbox", kind: "fs", path: watched, interval: "200ms" },
        ],
      },
    });
    const first = await eventually(async () => {
      const { text } = await scrape(un);
      return scans(text, "site") >= 1 && scans(text, "inbox") >= 1 ? text : undefined;
    }, { timeoutMs: 10_000, message: "a first scan of each source" });
    await eventually(async () => {
      const { text } = await scrape(un);
      return scans(text, "site") >= scans(first, "site") + 3 &&
        scans(text, "inbox") >= scans(first, "inbox") + 3;
    }, { timeoutMs: 10_000, message: "three more periodic scans of each source" });
    // Nobody asked for a scan: every one counted was periodic.
    const history = await fetch(`${un.url}/un/events/history?type=scan.completed`);
    const body = await history.json() as { events: unknown[] };
    assert.deepEqual(body.events, []);
  } finally {
    await server.shutdown();
    await Deno.remove(watched, { recursive: true });
  }
});
