/**
 * Browser-origin protection against a real `un start`: every route that
 * changes something refuses what a web page can send cross-site (simple
 * bodies, a foreign Origin, Sec-Fetch-Site: cross-site) and changes nothing;
 * a foreign Host gets 421 everywhere; CORS answers only listed origins; curl
 * and same-origin requests keep working.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Task } from "../lib/tasks/task.ts";
import { assertError, createTask, type TaskJson } from "./helpers/api.ts";
import { api } from "./helpers/http.ts";
import { rawRequest } from "./helpers/raw-http.ts";
import { startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

type Attempt = { method: string; path: string; body?: unknown };

/** What a cross-site page can send without a preflight, plus the two markers a browser adds. */
function crossSiteVariants(body: unknown): Array<{ name: string; init: RequestInit }> {
  const json = JSON.stringify(body ?? {});
  const form = new FormData();
  form.set("type", "noop");
  return [
    { name: "text/plain", init: { headers: { "content-type": "text/plain" }, body: json } },
    {
      name: "form-urlencoded",
      init: {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "type=noop",
      },
    },
    { name: "multipart", init: { body: form } },
    {
      name: "foreign Origin",
      init: {
        headers: { "content-type": "application/json", origin: "https://evil.example" },
        body: json,
      },
    },
    {
      name: "Sec-Fetch-Site: cross-site",
      init: {
        headers: { "content-type": "application/json", "sec-fetch-site": "cross-site" },
        body: json,
      },
    },
  ];
}

Deno.test("browser guard: cross-site requests change nothing; curl and same-origin work", async (t) => {
  const dir = await Deno.makeTempDir();
  await using _cleanup = { [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
  const inbox = join(dir, "inbox");
  await Deno.mkdir(inbox);
  await using un = await startUn({
    cwd: dir,
    config: {
      workers: { concurrency: 1 },
      sources: [{ id: "inbox", kind: "fs", path: inbox, emitExisting: false }],
    },
  });
  const scheduled = await createTask(un, { type: "noop", delayMs: 3_600_000, priority: 3 });
  const failing = await createTask(un, {
    type: "file.metadata",
    payload: { path: join(inbox, "missing.txt") },
    maxAttempts: 1,
  });
  await eventually(async () => {
    const res = await api<TaskJson>(un.url, "GET", `/un/tasks/${failing.id}`);
    return ["failed", "dead"].includes(res.body.task.state);
  }, { timeoutMs: 10_000, message: "the failing task to end" });

  const snapshot = async () => {
    const tasks = await api<{ tasks: Task[] }>(un.url, "GET", "/un/tasks?limit=1000");
    const events = await api<{ events: unknown[] }>(un.url, "GET", "/un/events/history?limit=1000");
    const workers = await api<{ concurrency: number }>(un.url, "GET", "/un/workers");
    const sources = await api<{ sources: Array<{ id: string }> }>(un.url, "GET", "/un/sources");
    return {
      tasks: tasks.body.tasks.map((task) => `${task.id}:${task.state}:${task.priority}`).sort(),
      events: events.body.events.length,
      concurrency: workers.body.concurrency,
      sources: sources.body.sources.map((s) => s.id).sort(),
    };
  };
  const before = await snapshot();

  const attempts: Attempt[] = [
    { method: "POST", path: "/un/tasks/create", body: { type: "noop" } },
    { method: "POST", path: "/un/events/publish", body: { type: "app.ping" } },
    { method: "POST", path: "/un/workers/scale", body: { concurrency: 200 } },
    {
      method: "POST",
      path: "/un/sources/add",
      body: { id: "x", kind: "feed", url: "https://a.example/f" },
    },
    { method: "DELETE", path: "/un/sources/inbox" },
    { method: "POST", path: `/un/tasks/${failing.id}/retry` },
    { method: "DELETE", path: `/un/tasks/${scheduled.id}` },
    { method: "POST", path: `/un/tasks/${scheduled.id}/priority`, body: { priority: 9 } },
    { method: "POST", path: "/un/sources/inbox/scan" },
    { method: "POST", path: "/un/scan" },
    { method: "POST", path: "/un/stop" },
  ];

  await t.step("every mutating route refuses every cross-site shape with 4xx", async () => {
    for (const attempt of attempts) {
      for (const variant of crossSiteVariants(attempt.body)) {
        const res = await fetch(un.url + attempt.path, { method: attempt.method, ...variant.init });
        const text = await res.text();
        assert.ok(
          res.status >= 400 && res.status < 500,
          `${attempt.method} ${attempt.path} with ${variant.name}: ${res.status} ${text}`,
        );
        assert.ok([403, 415].includes(res.status), `${variant.name}: ${res.status} ${text}`);
        assert.equal(res.headers.get("access-control-allow-origin"), null);
      }
    }
  });

  await t.step("and nothing changed", async () => {
    assert.deepEqual(await snapshot(), before);
    const health = await fetch(`${un.url}/health`);
    assert.equal(health.status, 200, "the process still runs");
    await health.body?.cancel();
  });

  await t.step("a foreign Host gets 421 on every route", async () => {
    const paths = ["/health", "/metrics", "/un/tasks", "/un/inspect", "/un/login", "/nope"];
    for (const path of paths) {
      const res = await rawRequest(un.url, "GET", path, { host: "evil.example:4242" });
      assertError({ status: res.status, body: JSON.parse(res.body) }, 421, "Host");
    }
    for (const attempt of attempts) {
      const res = await rawRequest(un.url, attempt.method, attempt.path, {
        host: "rebind.evil.example",
        "content-type": "application/json",
      }, attempt.body === undefined ? "" : JSON.stringify(attempt.body));
      assert.equal(res.status, 421, `${attempt.method} ${attempt.path}`);
    }
    assert.deepEqual(await snapshot(), before);
  });

  await t.step("loopback names and IP literals are this server", async () => {
    const port = new URL(un.url).port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `un.localhost:${port}`]) {
      const res = await rawRequest(un.url, "GET", "/health", { host });
      assert.equal(res.status, 200, host);
    }
  });

  await t.step("a preflight from a foreign origin gets no CORS headers", async () => {
    const res = await fetch(`${un.url}/un/tasks/create`, {
      method: "OPTIONS",
      headers: {
        origin: "https://evil.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    await res.body?.cancel();
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    assert.ok(res.status >= 400);
  });

  await t.step("curl (no Origin) and the page's own origin still work", async () => {
    const plain = await api<TaskJson>(un.url, "POST", "/un/tasks/create", { type: "noop" });
    assert.equal(plain.status, 201);
    const same = await api<TaskJson>(un.url, "POST", "/un/tasks/create", { type: "noop" }, {
      origin: un.url,
      "sec-fetch-site": "same-origin",
    });
    assert.equal(same.status, 201, JSON.stringify(same.body));
    const bodyless = await fetch(`${un.url}/un/tasks/${scheduled.id}/priority`, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({ priority: 7 }),
    });
    assert.equal(bodyless.status, 200, await bodyless.text());
  });
});

Deno.test("browser guard: listed CORS origins get CORS headers", async () => {
  const origin = "http://app.example.test:8080";
  await using un = await startUn({ config: { api: { cors: { origins: [origin] } } } });
  const preflight = await fetch(`${un.url}/un/tasks/create`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type",
    },
  });
  await preflight.body?.cancel();
  assert.ok(preflight.status < 300, `preflight: ${preflight.status}`);
  assert.equal(preflight.headers.get("access-control-allow-origin"), origin);
  const res = await api<TaskJson>(un.url, "POST", "/un/tasks/create", { type: "noop" }, {
    origin,
    "sec-fetch-site": "cross-site",
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
});

Deno.test("input limits: deep JSON is a 400, reserved event types cannot be published", async () => {
  await using un = await startUn();
  const deep = "[".repeat(2_000) + "]".repeat(2_000);
  for (const path of ["/un/tasks/create", "/un/events/publish", "/un/sources/add"]) {
    const res = await fetch(un.url + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"type":"noop","payload":${deep},"data":${deep}}`,
    });
    const body = assertError({ status: res.status, body: await res.json() }, 400, "body");
    assert.match(body.error.message, /deeper than 64/);
  }
  for (const type of ["file.created", "github.push", "task.succeeded", "source.deleted"]) {
    const res = await api(un.url, "POST", "/un/events/publish", { type });
    const body = assertError(res, 400, "type");
    assert.match(body.error.message, new RegExp(`"${type.split(".")[0]}\\.\\*"`));
  }
  const ok = await api(un.url, "POST", "/un/events/publish", { type: "deploy.finished" });
  assert.equal(ok.status, 202);
});

Deno.test("read timeout: a slow-header client is cut off, a slow-body one too", async (t) => {
  await using un = await startUn({ config: { api: { readTimeoutMs: 500 } } });
  const { hostname, port } = new URL(un.url);

  /** Trickles `parts` one every 150 ms; resolves with how long until the server closed the socket. */
  const trickle = async (first: string, next: string): Promise<number> => {
    const conn = await Deno.connect({ hostname, port: Number(port) });
    const started = Date.now();
    const encoder = new TextEncoder();
    await conn.write(encoder.encode(first));
    try {
      for (let i = 0; i < 100; i++) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        await conn.write(encoder.encode(next));
      }
      // Reading shows a close as null (or a reset).
      return await conn.read(new Uint8Array(1024)) === null ? Date.now() - started : Infinity;
    } catch {
      return Date.now() - started;
    } finally {
      try {
        conn.close();
      } catch {
        // closed by the server
      }
    }
  };

  await t.step("headers that never end", async () => {
    const closedAfter = await trickle("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n", "X-A: b\r\n");
    assert.ok(closedAfter < 10_000, `closed after ${closedAfter} ms`);
  });
  await t.step("a body that never ends", async () => {
    const closedAfter = await trickle(
      "POST /un/events/publish HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
        "Content-Length: 100000\r\n\r\n{",
      " ",
    );
    assert.ok(closedAfter < 10_000, `closed after ${closedAfter} ms`);
  });
  await t.step(
    "the log says so, and ordinary requests on kept-alive connections work",
    async () => {
      assert.match(un.stderrText(), /client was too slow/);
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${un.url}/health`);
        assert.equal(res.status, 200);
        await res.body?.cancel();
      }
    },
  );
});
