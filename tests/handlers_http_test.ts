/**
 * The `http` handler against a real HTTP server on 127.0.0.1: signed JSON
 * deliveries, which failures are permanent and which retryable, cancel and
 * timeout.
 */

import { createHmac } from "node:crypto";
import { PermanentError } from "../lib/errors.ts";
import type { Json } from "../lib/events.ts";
import {
  assert,
  assertEquals,
  handlersFor,
  makeContext,
  makeTask,
  rejects,
  run,
} from "./helpers/handlers.ts";

interface Received {
  method: string;
  path: string;
  body: string;
  signature: string | null;
  taskId: string | null;
  contentType: string | null;
}

/** A real HTTP server on 127.0.0.1:0 that records requests and answers by path. */
function startServer() {
  const received: Received[] = [];
  // Requests to /slow wait here until the test closes the server.
  const held: (() => void)[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const url = new URL(request.url);
      received.push({
        method: request.method,
        path: url.pathname,
        body: await request.text(),
        signature: request.headers.get("x-un-signature-256"),
        taskId: request.headers.get("x-un-task-id"),
        contentType: request.headers.get("content-type"),
      });
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
  return { close, received, base: `http://127.0.0.1:${server.addr.port}` };
}

Deno.test("http delivers a signed JSON request and returns the response", async () => {
  const { close, received, base } = startServer();
  try {
    const secret = "webhook-secret-1";
    const handlers = handlersFor({ http: { signingSecret: secret } });
    const body = { event: "file.created", path: "docs/a.md" };
    const task = makeTask("http", {
      url: `${base}/ok`,
      body,
      headers: { "x-un-signature-256": "forged" },
    });
    const result = await handlers.http(task, makeContext().ctx) as Record<string, Json>;
    assertEquals(result.status, 200);
    assertEquals(result.body, "xx");
    assertEquals(result.headers, {
      "content-type": "text/plain",
      "content-length": "2",
      etag: '"v1"',
    });

    const got = received[0];
    assertEquals(got.method, "POST");
    assertEquals(JSON.parse(got.body), body);
    assertEquals(got.contentType, "application/json");
    assertEquals(got.taskId, task.id);
    const expected = "sha256=" + createHmac("sha256", secret).update(got.body).digest("hex");
    assertEquals(got.signature, expected, "signature is the HMAC of the body received");

    await run(handlers, "http", { url: `${base}/ok` });
    assertEquals(received[1].method, "GET");
    assertEquals(received[1].body, "");

    const unsigned = await run(handlersFor(), "http", {
      url: `${base}/ok`,
      method: "PUT",
      body: [1],
    });
    assertEquals(unsigned.status, 200);
    assertEquals(received[2].signature, null, "no secret, no signature");
    assertEquals(received[2].body, "[1]");
  } finally {
    await close();
  }
});

Deno.test("http: 4xx fails permanently; 408, 429, 5xx and network errors are retryable", async () => {
  const { close, base } = startServer();
  const handlers = handlersFor();
  try {
    for (const status of [400, 401, 404, 410, 422]) {
      const err = await rejects(() => run(handlers, "http", { url: `${base}/${status}` }));
      assert(err instanceof PermanentError, `${status} should be permanent: ${err.message}`);
      assert(err.message.includes(String(status)), err.message);
    }
    for (const status of [408, 429, 500, 502, 503]) {
      const err = await rejects(() => run(handlers, "http", { url: `${base}/${status}` }));
      assert(!(err instanceof PermanentError), `${status} should be retryable`);
      assert(err.message.includes(`answered ${status}`), err.message);
    }
    const big = await run(handlers, "http", { url: `${base}/ok?size=100000` });
    assertEquals((big.body as string).length, 64 * 1024);
    assertEquals(big.truncated, true);
  } finally {
    await close();
  }
  // The server is gone: connection refused.
  const err = await rejects(() => run(handlers, "http", { url: `${base}/ok` }));
  assert(!(err instanceof PermanentError), "a network error is retryable");
  assert(err.message.includes("failed"), err.message);

  const bad = await rejects(() => run(handlers, "http", { url: "ftp://example.com/x" }));
  assert(bad instanceof PermanentError && bad.message.includes("payload.url"), bad.message);
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
    assert(err === reason, `rejects with the cancel's reason, got ${err.message}`);
    assert(performance.now() - cancelledAt < 100, "cancel was slow");

    const timedOut = await rejects(() =>
      run(handlersFor({ http: { timeoutMs: 100 } }), "http", { url: `${base}/slow` })
    );
    assert(!(timedOut instanceof PermanentError), "a timeout is retryable");
    assert(timedOut.message.includes("timed out after 100ms"), timedOut.message);
  } finally {
    await close();
  }
});
