/**
 * HTTP endpoint monitors, end to end: a real endpoint on loopback that changes,
 * fails with 500, disappears (connection refused) and comes back; the real
 * poll scanner under a test parent; a real SqliteStore.
 */

import assert from "node:assert/strict";
import {
  openStore,
  serve,
  sleep,
  source,
  startScanners,
  type TestServer,
} from "./helpers/poll-scanner.ts";
import { eventually } from "./helpers/eventually.ts";

type Data = Record<string, unknown>;

Deno.test("a changed body gives http.changed; 500 and a refused connection give http.down; recovery gives http.up", async () => {
  let body = "version 1";
  let status = 200;
  const handler = () => new Response(status >= 500 ? "Internal Server Error" : body, { status });
  let server: TestServer = serve(handler);
  const url = `${server.url}/health`;
  const { store, close } = await openStore();
  const run = startScanners(store, [source({ id: "site", kind: "http", url, interval: "1h" })]);
  try {
    // The first answer is the baseline.
    await eventually(async () => (await run.status("site"))?.lastScanAt, {
      intervalMs: 10,
      message: "the baseline poll",
    });
    assert.deepEqual(run.events.map((event) => event.type), []);
    assert.deepEqual(await run.scan("site"), { changes: 0 }, "unchanged");

    body = "version 2";
    assert.deepEqual(await run.scan("site"), { changes: 1 });
    const changed = run.events[0];
    assert.deepEqual([changed.type, changed.subject], ["http.changed", url]);
    const c = changed.data as Data;
    assert.deepEqual([c.url, c.oldStatus, c.newStatus], [url, 200, 200]);
    assert.ok(
      typeof c.oldHash === "string" && typeof c.newHash === "string" && c.oldHash !== c.newHash,
      "hashes",
    );

    status = 500;
    assert.deepEqual(await run.scan("site"), { changes: 1 });
    assert.deepEqual(run.events[1].type, "http.down");
    assert.deepEqual(run.events[1].data, {
      url,
      error: "HTTP 500 Internal Server Error",
      status: 500,
    });
    const downStatus = await run.status("site");
    assert.deepEqual(downStatus?.failures, 0, "a down endpoint is a finding, not a failed poll");
    assert.ok(
      downStatus?.lastError?.includes("is down"),
      `status shows it: ${downStatus?.lastError}`,
    );
    assert.deepEqual(await run.scan("site"), { changes: 0 }, "still down: no repeat");

    status = 200;
    assert.deepEqual(await run.scan("site"), { changes: 1 }, "same body as before the outage");
    assert.deepEqual(run.events[2].type, "http.up");
    assert.deepEqual((run.events[2].data as Data).status, 200);
    assert.deepEqual((await run.status("site"))?.lastError, null);

    // The server goes away entirely, then comes back on the same port with a new body.
    const port = server.port;
    await server.close();
    assert.deepEqual(await run.scan("site"), { changes: 1 });
    assert.deepEqual(run.events[3].type, "http.down");
    const down = run.events[3].data as Data;
    assert.ok(
      typeof down.error === "string" && !("status" in down),
      `network error: ${down.error}`,
    );
    server = serve(handler, port);
    body = "version 3";
    assert.deepEqual(await run.scan("site"), { changes: 2 });
    assert.deepEqual(run.events.map((e) => e.type), [
      "http.changed",
      "http.down",
      "http.up",
      "http.down",
      "http.up",
      "http.changed",
    ]);
    assert.deepEqual(
      (run.events[5].data as Data).oldHash,
      c.newHash,
      "compared with the last healthy answer",
    );
    assert.deepEqual(run.crashes, []);
  } finally {
    await run.stop();
    await close();
    await server.close();
  }
});

Deno.test("a status change is a change; the monitor polls on its interval and survives a restart", async () => {
  let status = 200;
  let hits = 0;
  const server = serve(() => {
    hits++;
    return new Response(status === 200 ? "here" : "gone", { status });
  });
  const { store, close } = await openStore();
  const spec = source({ id: "page", kind: "http", url: server.url, interval: 100 });
  let run = startScanners(store, [spec]);
  try {
    await eventually(() => hits >= 3, {
      timeoutMs: 3_000,
      intervalMs: 10,
      message: "polls on the interval",
    });
    status = 404;
    const changed = await eventually(() => run.ofType("http.changed")[0], {
      intervalMs: 10,
      message: "the 404 noticed",
    });
    const d = changed.data as Data;
    assert.deepEqual([d.oldStatus, d.newStatus], [200, 404]);
    assert.ok(d.oldHash !== d.newHash, "body changed too");
    await run.stop();

    // The baseline (404) is stored: a restart does not report it again.
    run = startScanners(store, [spec]);
    const before = hits;
    await eventually(() => hits >= before + 3, {
      timeoutMs: 3_000,
      intervalMs: 10,
      message: "the restarted monitor polling",
    });
    assert.deepEqual(run.events.map((event) => event.type), []);
    status = 200;
    await eventually(() => run.ofType("http.changed").length === 1, {
      intervalMs: 10,
      message: "back to 200",
    });
    assert.deepEqual(run.events.length, 1);
    assert.deepEqual(run.crashes, []);
  } finally {
    await run.stop();
    await close();
    await server.close();
  }
});

Deno.test("select hashes only the chosen part of a JSON body", async () => {
  let version = "1.0.0";
  let requests = 0;
  const server = serve(() => {
    requests++;
    return Response.json({ data: { version, builtAt: Date.now(), requests } });
  });
  const { store, close } = await openStore();
  const run = startScanners(store, [
    source({ id: "api", kind: "http", url: server.url, interval: "1h", select: "/data/version" }),
  ]);
  try {
    await eventually(async () => (await run.status("api"))?.lastScanAt, {
      intervalMs: 10,
      message: "the baseline poll",
    });
    assert.deepEqual(await run.scan("api"), { changes: 0 }, "other fields changed: not a change");
    assert.deepEqual(await run.scan("api"), { changes: 0 });
    version = "1.1.0";
    assert.deepEqual(await run.scan("api"), { changes: 1 });
    assert.deepEqual(run.events.map((e) => e.type), ["http.changed"]);
    assert.deepEqual(requests, 4);
  } finally {
    await run.stop();
    await close();
    await server.close();
  }
});

Deno.test("polls never overlap: scans asked during a slow poll share one fresh poll after it", async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  let requests = 0;
  const server = serve(async () => {
    requests++;
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    await sleep(150);
    inFlight--;
    return new Response("slow but steady");
  });
  const { store, close } = await openStore();
  const run = startScanners(store, [
    source({ id: "slow", kind: "http", url: server.url, interval: "1h" }),
  ]);
  try {
    await eventually(() => requests === 1, { intervalMs: 10, message: "the first poll under way" });
    const answers = await Promise.all([1, 2, 3, 4].map(() => run.scan("slow")));
    assert.deepEqual(answers, [1, 2, 3, 4].map(() => ({ changes: 0 })));
    assert.deepEqual([requests, maxInFlight], [2, 1], "one more poll, never two at once");

    // A scanner that crashes (the supervisor would restart it) is reported, not hidden.
    run.crash("slow");
    await eventually(() => run.crashes.length === 1, {
      intervalMs: 10,
      message: "the injected crash",
    });
    assert.ok(String(run.crashes[0]).includes("fault injected"), String(run.crashes[0]));
  } finally {
    await run.stop();
    await close();
    await server.close();
  }
});
