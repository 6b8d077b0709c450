/**
 * The `http` handler against a real HTTP server on 127.0.0.1: signed JSON
 * deliveries, which failures are permanent and which retryable, cancel and
 * timeout, and the run-time `http.allow` check (also of each redirect).
 */

import assert from "node:assert/strict";
import type { ConfigInput } from "../lib/config/load.ts";
import { PermanentError } from "../lib/errors.ts";
import type { Json } from "../lib/events/cloud-event.ts";
import { verifySignature } from "../mod.ts";
import {
  handlersFor as handlersOf,
  makeContext,
  makeTask,
  rejects,
  run,
} from "./helpers/handlers.ts";

/** Handlers that may reach the loopback test servers (the default allows public addresses only). */
function handlersFor(input: ConfigInput = {}) {
  return handlersOf({ ...input, http: { allow: ["127.0.0.1"], ...input.http } });
}

interface Received {
  method: string;
  url: string;
  path: string;
  body: string;
  signature: string | null;
  taskId: string | null;
  contentType: string | null;
}

/** A real HTTP server on 127.0.0.1:0 (or another loopback address) that records requests and answers by path. */
function startServer(hostname = "127.0.0.1") {
  const received: Received[] = [];
  // Requests to /slow wait here until the test closes the server.
  const held: (() => void)[] = [];
  const server = Deno.serve(
    { hostname, port: 0, onListen: () => {} },
    async (request) => {
      const url = new URL(request.url);
      received.push({
        method: request.method,
        url: request.url,
        path: url.pathname,
        body: await request.text(),
        signature: request.headers.get("x-un-signature"),
        taskId: request.headers.get("x-un-task-id"),
        contentType: request.headers.get("content-type"),
      });
      const location = url.searchParams.get("to");
      if (url.pathname.startsWith("/redirect/") && location) {
        return new Response(null, {
          status: Number(url.pathname.slice(10)),
          headers: { location },
        });
      }
      if (url.pathname === "/loop") {
        return new Response(null, { status: 302, headers: { location: "/loop" } });
      }
      if (url.pathname === "/slow") {
        await new Promise<void>((resolve) => held.push(resolve));
        return new Response("late");
      }
      const status = Number(url.pathname.slice(1)) || 200;
      return new Response(
        status === 200 ? "x".repeat(Number(url.searchParams.get("size") ?? 2)) : `status ${status}`,
        {
          status,
          headers: { "content-type": "text/plain", "x-other": "dropped", etag: '"v1"' },
        },
      );
    },
  );
  const close = async () => {
    held.forEach((release) => release());
    await server.shutdown();
  };
  return { close, received, base: `http://${hostname}:${server.addr.port}` };
}

Deno.test("http delivers a signed JSON request to a signTo host and returns the response", async () => {
  const { close, received, base } = startServer();
  try {
    const secret = "webhook-secret-1";
    const handlers = handlersFor({ http: { signingSecret: secret, signTo: ["127.0.0.1"] } });
    const body = { event: "file.created", path: "docs/a.md" };
    const task = makeTask("http", {
      url: `${base}/ok?x=1`,
      body,
      headers: { "x-un-signature": "forged" },
    });
    const result = await handlers.http(task, makeContext().ctx) as Record<string, Json>;
    assert.deepEqual(result.status, 200);
    assert.deepEqual(result.body, "xx");
    assert.deepEqual(result.headers, {
      "content-type": "text/plain",
      "content-length": "2",
      etag: '"v1"',
    });

    const got = received[0];
    assert.deepEqual(got.method, "POST");
    assert.deepEqual(JSON.parse(got.body), body);
    assert.deepEqual(got.contentType, "application/json");
    assert.deepEqual(got.taskId, task.id);
    assert.ok(/^t=\d+,v1=[0-9a-f]{64}$/.test(got.signature ?? ""), `signature ${got.signature}`);
    const signed = { method: got.method, url: got.url, body: got.body };
    const check = verifySignature(secret, got.signature, signed);
    assert.ok(check.ok, `the receiver's check passes: ${JSON.stringify(check)}`);
    const later = verifySignature(secret, got.signature, signed, { now: Date.now() + 6 * 60_000 });
    assert.deepEqual(later.ok ? "ok" : later.reason, "stale", "a replay 6 minutes later");
    const moved = verifySignature(secret, got.signature, { ...signed, url: `${base}/other` });
    assert.deepEqual(moved.ok ? "ok" : moved.reason, "mismatch", "another URL");
    const changed = verifySignature(secret, got.signature, { ...signed, body: '{"event":"x"}' });
    assert.deepEqual(changed.ok ? "ok" : changed.reason, "mismatch", "another body");

    await run(handlers, "http", { url: `${base}/ok` });
    assert.deepEqual(received[1].method, "GET");
    assert.deepEqual(received[1].body, "");
    assert.ok(
      verifySignature(secret, received[1].signature, { ...received[1] }).ok,
      "GET is signed",
    );

    const unsigned = await run(handlersFor(), "http", {
      url: `${base}/ok`,
      method: "PUT",
      body: [1],
      headers: { "X-Un-Signature": "forged" },
    });
    assert.deepEqual(unsigned.status, 200);
    assert.deepEqual(
      received[2].signature,
      null,
      "no secret, no signature (a forged one is dropped)",
    );
    assert.deepEqual(received[2].body, "[1]");

    // A secret but a host outside signTo: no signature, so no caller gets one for any URL.
    const elsewhere = handlersFor({
      http: { signingSecret: secret, signTo: ["hooks.example.com"] },
    });
    await run(elsewhere, "http", { url: `${base}/ok`, body: { a: 1 } });
    assert.deepEqual(received[3].signature, null, "not a signTo host");
  } finally {
    await close();
  }
});

Deno.test("http refuses hosts http.allow does not cover, also behind a redirect", async () => {
  const { close, received, base } = startServer();
  const other = startServer("127.0.0.2");
  try {
    const refused = await rejects(() => run(handlersOf(), "http", { url: `${base}/ok` }));
    assert.ok(refused instanceof PermanentError, `permanent: ${refused.message}`);
    assert.ok(
      refused.message.includes("host 127.0.0.1 is not allowed by http.allow"),
      refused.message,
    );
    assert.deepEqual(received.length, 0, "nothing was sent");

    // 127.0.0.1 allowed by CIDR; 127.0.0.2 (loopback too) is not: the redirect is refused.
    const narrow = handlersOf({ http: { allow: ["127.0.0.1/32"] } });
    const to = `${other.base}/ok`;
    const err = await rejects(() =>
      run(narrow, "http", { url: `${base}/redirect/302?to=${encodeURIComponent(to)}` })
    );
    assert.ok(err instanceof PermanentError, `permanent: ${err.message}`);
    assert.ok(err.message.includes("host 127.0.0.2 is not allowed by http.allow"), err.message);
    assert.deepEqual(other.received.length, 0, "the redirect was not followed");

    // Allowed redirects are followed: 303 turns a POST into a GET, 307 keeps it.
    const wide = handlersOf({ http: { allow: ["127.0.0.0/8"] } });
    const seeOther = await run(wide, "http", {
      url: `${base}/redirect/303?to=${encodeURIComponent(to)}`,
      body: { a: 1 },
    });
    assert.deepEqual(seeOther.status, 200);
    assert.deepEqual(other.received[0].method, "GET");
    assert.deepEqual(other.received[0].body, "");
    await run(wide, "http", { url: `${base}/redirect/307?to=%2Fok`, body: { b: 2 } });
    const kept = received.at(-1)!;
    assert.deepEqual([kept.method, kept.path, kept.body], ["POST", "/ok", '{"b":2}']);

    const loop = await rejects(() => run(wide, "http", { url: `${base}/loop` }));
    assert.ok(loop instanceof PermanentError, `permanent: ${loop.message}`);
    assert.ok(loop.message.includes("more than 5 redirects"), loop.message);
  } finally {
    await close();
    await other.close();
  }
});

Deno.test("http: 4xx fails permanently; 408, 429, 5xx and network errors are retryable", async () => {
  const { close, base } = startServer();
  const handlers = handlersFor();
  try {
    for (const status of [400, 401, 404, 410, 422]) {
      const err = await rejects(() => run(handlers, "http", { url: `${base}/${status}` }));
      assert.ok(err instanceof PermanentError, `${status} should be permanent: ${err.message}`);
      assert.ok(err.message.includes(String(status)), err.message);
    }
    for (const status of [408, 429, 500, 502, 503]) {
      const err = await rejects(() => run(handlers, "http", { url: `${base}/${status}` }));
      assert.ok(!(err instanceof PermanentError), `${status} should be retryable`);
      assert.ok(err.message.includes(`answered ${status}`), err.message);
    }
    const big = await run(handlers, "http", { url: `${base}/ok?size=100000` });
    assert.deepEqual((big.body as string).length, 64 * 1024);
    assert.deepEqual(big.truncated, true);
  } finally {
    await close();
  }
  // The server is gone: connection refused.
  const err = await rejects(() => run(handlers, "http", { url: `${base}/ok` }));
  assert.ok(!(err instanceof PermanentError), "a network error is retryable");
  assert.ok(err.message.includes("failed"), err.message);

  const bad = await rejects(() => run(handlers, "http", { url: "ftp://example.com/x" }));
  assert.ok(bad instanceof PermanentError && bad.message.includes("payload.url"), bad.message);
});

Deno.test("http honours cancel and its own timeout", async () => {
  const { close, base } = startServer();
  try {
    const { ctx, controller } = makeContext();
    const running = run(handlersFor(), "http", { url: `${base}/slow` }, ctx);
    await new Promise((r) => setTimeout(r, 100));
    const reason = new Error("cancelled");
    const cancelledAt = performance.now();
    controller.abort(reason);
    const err = await rejects(() => running);
    assert.ok(err === reason, `rejects with the cancel's reason, got ${err.message}`);
    assert.ok(performance.now() - cancelledAt < 100, "cancel was slow");

    const timedOut = await rejects(() =>
      run(handlersFor({ http: { timeoutMs: 100 } }), "http", { url: `${base}/slow` })
    );
    assert.ok(!(timedOut instanceof PermanentError), "a timeout is retryable");
    assert.ok(timedOut.message.includes("timed out after 100ms"), timedOut.message);
  } finally {
    await close();
  }
});
