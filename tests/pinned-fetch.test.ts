/**
 * safeFetch connects to the address it checked (lib/safety/pinned-request.ts):
 * a name is resolved once per hop, and a resolver that answers differently the
 * next time (DNS rebinding) cannot send the request elsewhere. Real loopback
 * servers (HTTP and TLS with a test CA), the resolver injected.
 *
 * 127.0.0.2 is loopback on Linux (reachable) but outside `127.0.0.1/32`; it
 * stands for an allowed address, 127.0.0.1 for the one an attacker wants.
 */

import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { gzipSync } from "node:zlib";
import { OutboundRefusal, safeFetch, type SafeFetchOptions } from "../lib/safety/safe-fetch.ts";
import type { Resolver } from "../lib/safety/outbound.ts";
import { eventually } from "./helpers/eventually.ts";

const TLS = new URL("./fixtures/tls/", import.meta.url);
const CA = Deno.readTextFileSync(new URL("ca.pem", TLS));

interface Seen {
  method: string;
  path: string;
  host: string | null;
  body: string;
  cookie: string | null;
}

/** A server on `hostname` (and `port`, 0 for any) recording what it is asked. */
function recorder(
  hostname: string,
  port = 0,
  handler: (url: URL, req: Request) => Response = () => new Response("ok"),
  tls?: { cert: string; key: string },
) {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname, port, onListen: () => {}, ...tls }, async (req) => {
    const url = new URL(req.url);
    const body = await req.text();
    const { method, headers } = req;
    seen.push({
      method,
      path: url.pathname,
      host: headers.get("host"),
      body,
      cookie: headers.get("cookie"),
    });
    return handler(url, req);
  });
  return { seen, server, port: (server.addr as Deno.NetAddr).port };
}

/** A resolver from a table; a name not in it does not resolve. */
function table(answers: Record<string, string[]>): Resolver {
  return (name) => {
    const found = answers[name];
    if (found) return Promise.resolve(found);
    return Promise.reject(Object.assign(new Error("not found"), { code: "ENOTFOUND" }));
  };
}

function options(allow: string[] | null, resolve: Resolver, extra: Partial<SafeFetchOptions> = {}) {
  return { allow, field: "url", signal: new AbortController().signal, resolve, ...extra };
}

async function refusal(promise: Promise<Response>): Promise<OutboundRefusal> {
  try {
    const response = await promise;
    await response.body?.cancel();
  } catch (error) {
    assert.ok(error instanceof OutboundRefusal, String(error));
    return error;
  }
  throw new Error("the request was sent");
}

Deno.test("safeFetch: a name that rebinds after the check never reaches the address it rebinds to", async () => {
  const victim = recorder("127.0.0.1");
  const allowed = recorder("127.0.0.2", victim.port);
  let calls = 0;
  // An allowed address on the first answer, loopback on every later one.
  const rebinding: Resolver = (name) => {
    assert.equal(name, "rebind.test");
    return Promise.resolve(calls++ === 0 ? ["127.0.0.2"] : ["127.0.0.1"]);
  };
  try {
    const response = await safeFetch(
      `http://rebind.test:${victim.port}/hook`,
      { method: "POST", headers: new Headers(), body: "secret" },
      options(["public", "127.0.0.2"], rebinding),
    );
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "ok");
    assert.equal(calls, 1, "the name is resolved once per hop");
    assert.equal(victim.seen.length, 0, "127.0.0.1 received nothing");
    assert.deepEqual(allowed.seen.map((s) => s.host), [`rebind.test:${victim.port}`]);

    // The next request resolves afresh, and the answer it gets now is refused.
    const refused = await refusal(
      safeFetch(
        `http://rebind.test:${victim.port}/hook`,
        { method: "GET", headers: new Headers() },
        options(["public", "127.0.0.2"], rebinding),
      ),
    );
    assert.equal(
      refused.message,
      `url: host rebind.test (resolves to 127.0.0.1) is not allowed by http.allow ` +
        `(["public","127.0.0.2"]); add it to http.allow to let un reach it`,
    );
    assert.equal(refused.permanent, true);
    assert.equal(victim.seen.length, 0, "127.0.0.1 still received nothing");
  } finally {
    await victim.server.shutdown();
    await allowed.server.shutdown();
  }
});

Deno.test("safeFetch: a name resolved to an allowed address is reached by name, as fetch would", async () => {
  const target = recorder("127.0.0.1", 0, (url) => {
    if (url.pathname === "/gzip") {
      return new Response(new Uint8Array(gzipSync("squeezed ".repeat(1000))), {
        headers: { "content-encoding": "gzip", "content-type": "text/plain" },
      });
    }
    const headers = new Headers({ "x-kind": "plain" });
    headers.append("set-cookie", "a=1");
    headers.append("set-cookie", "b=2");
    return new Response("created", { status: 201, headers });
  });
  try {
    const resolve = table({ "api.test": ["127.0.0.1"] });
    const url = `http://api.test:${target.port}`;
    for (const allow of [["127.0.0.1/32"], ["localhost"]]) {
      const response = await safeFetch(
        `${url}/post?x=1`,
        {
          method: "POST",
          headers: new Headers({ "content-type": "application/json" }),
          body: '{"é":1}',
        },
        options(allow, resolve),
      );
      assert.equal(response.status, 201);
      assert.equal(response.statusText, "Created");
      assert.deepEqual(response.headers.getSetCookie(), ["a=1", "b=2"]);
      assert.equal(await response.text(), "created");
    }
    const last = target.seen.at(-1)!;
    assert.deepEqual(
      { ...last },
      {
        method: "POST",
        path: "/post",
        host: `api.test:${target.port}`,
        body: '{"é":1}',
        cookie: null,
      },
    );

    const zipped = await safeFetch(
      `${url}/gzip`,
      { method: "GET", headers: new Headers() },
      options(["127.0.0.1"], resolve),
    );
    assert.equal(await zipped.text(), "squeezed ".repeat(1000), "a gzip body is decoded");

    // A listed name is not checked; the system resolves it (localhost here).
    const listed = await safeFetch(
      `http://localhost:${target.port}/listed`,
      { method: "HEAD", headers: new Headers() },
      options(["localhost"], table({})),
    );
    assert.equal(listed.status, 201);
    assert.equal(listed.body, null);
  } finally {
    await target.server.shutdown();
  }
});

Deno.test("safeFetch: HTTPS to a pinned address checks the certificate against the URL's name", async () => {
  const cert = await Deno.readTextFile(new URL("server.pem", TLS));
  const key = await Deno.readTextFile(new URL("server.key", TLS));
  const target = recorder("127.0.0.1", 0, () => new Response("secure"), { cert, key });
  try {
    const resolve = table({ "pinned.test": ["127.0.0.1"], "other.test": ["127.0.0.1"] });
    const get = { method: "GET", headers: new Headers() };
    const allow = ["127.0.0.1"];
    const ok = await safeFetch(
      `https://pinned.test:${target.port}/`,
      get,
      options(allow, resolve, { ca: [CA] }),
    );
    assert.equal(await ok.text(), "secure");
    assert.equal(target.seen[0].host, `pinned.test:${target.port}`);

    // The certificate is for pinned.test: another name on the same address is refused by TLS.
    await assert.rejects(
      safeFetch(`https://other.test:${target.port}/`, get, options(allow, resolve, { ca: [CA] })),
      (error: Error) => (error.cause as { code?: string }).code === "ERR_TLS_CERT_ALTNAME_INVALID",
    );
    // Without the test CA, the certificate is not trusted.
    await assert.rejects(
      safeFetch(`https://pinned.test:${target.port}/`, get, options(allow, resolve)),
    );
    assert.equal(target.seen.length, 1);
  } finally {
    await target.server.shutdown();
  }
});

Deno.test("safeFetch: a redirect to a refused address is refused, the refused host never asked", async () => {
  const victim = recorder("127.0.0.1");
  const start = recorder(
    "127.0.0.2",
    0,
    (url) =>
      new Response(null, { status: 302, headers: { location: url.searchParams.get("to")! } }),
  );
  try {
    const resolve = table({
      "start.test": ["127.0.0.2"],
      "victim.test": ["127.0.0.2", "127.0.0.1"],
    });
    const allow = ["127.0.0.2"];
    for (
      const to of [
        `http://victim.test:${victim.port}/x?token=1`,
        `http://127.0.0.1:${victim.port}/x`,
      ]
    ) {
      const refused = await refusal(
        safeFetch(
          `http://start.test:${start.port}/go?to=${encodeURIComponent(to)}`,
          { method: "GET", headers: new Headers() },
          options(allow, resolve),
        ),
      );
      const host = new URL(to).hostname;
      assert.match(
        refused.message,
        new RegExp(`^redirect to http://${host}:${victim.port}/x: host ${host}`),
      );
      assert.match(refused.message, /is not allowed by http\.allow/);
      assert.doesNotMatch(refused.message, /token/);
      assert.equal(refused.permanent, true);
    }
    assert.equal(victim.seen.length, 0);
    assert.equal(start.seen.length, 2);

    // A name that does not resolve now may later: not permanent.
    const unresolved = await refusal(
      safeFetch(
        `http://gone.test:${start.port}/`,
        { method: "GET", headers: new Headers() },
        options(allow, resolve),
      ),
    );
    assert.equal(unresolved.permanent, false);
    assert.match(unresolved.message, /could not resolve host gone\.test \(ENOTFOUND\)/);
  } finally {
    await victim.server.shutdown();
    await start.server.shutdown();
  }
});

Deno.test("safeFetch: aborting mid-body stops the request; a cut connection or odd status is an error", async () => {
  let closed = false;
  const target = recorder("127.0.0.1", 0, () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("first chunk"));
      }, // and nothing more: the body never ends by itself
      cancel() {
        closed = true; // the client went away
      },
    });
    return new Response(body);
  });
  // A raw server that promises 100 bytes, sends 5 and closes.
  const sockets: Socket[] = [];
  const raw = createServer((socket) => {
    sockets.push(socket);
    socket.once("data", (head) => {
      if (String(head).startsWith("GET /600 ")) socket.end("HTTP/1.1 600 Odd\r\n\r\n");
      else socket.end("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhello");
    });
  });
  await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
  const rawPort = (raw.address() as { port: number }).port;
  try {
    const stop = new AbortController();
    const response = await safeFetch(
      `http://127.0.0.1:${target.port}/stream`,
      { method: "GET", headers: new Headers() },
      { ...options(["127.0.0.1"], table({})), signal: stop.signal },
    );
    const reader = response.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "first chunk");
    stop.abort(new Error("cancelled by test"));
    await assert.rejects(reader.read(), /cancelled by test/);
    await eventually(() => closed, { message: "the server to see the connection closed" });

    const cut = await safeFetch(
      `http://127.0.0.1:${rawPort}/`,
      { method: "GET", headers: new Headers() },
      options(["127.0.0.1"], table({})),
    );
    await assert.rejects(cut.text());
    // A status no Response can hold fails the request (and does not crash the process).
    await assert.rejects(
      safeFetch(
        `http://127.0.0.1:${rawPort}/600`,
        { method: "GET", headers: new Headers() },
        options(["127.0.0.1"], table({})),
      ),
      /error sending request for url/,
    );

    // Aborted before an answer: the signal's reason.
    const early = new AbortController();
    early.abort(new Error("too late"));
    await assert.rejects(
      safeFetch(`http://127.0.0.1:${target.port}/`, { method: "GET", headers: new Headers() }, {
        ...options(["127.0.0.1"], table({})),
        signal: early.signal,
      }),
      /too late/,
    );
  } finally {
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => raw.close(resolve));
    await target.server.shutdown();
  }
});
