/**
 * A client that stops reading an event stream and stays connected must not
 * hold a graceful stop: SIGTERM still ends `un start` with exit 0, soon.
 */

import assert from "node:assert/strict";
import { api } from "./helpers/http.ts";
import { startUn } from "./helpers/un-process.ts";

Deno.test("shutdown: a stalled, still-connected SSE client does not hold SIGTERM", async () => {
  await using un = await startUn({ config: { api: { sseMaxBufferedBytes: 256 * 1024 * 1024 } } });
  const { hostname, port } = new URL(un.url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  using _conn = { [Symbol.dispose]: () => conn.close() };
  await conn.write(
    new TextEncoder().encode(`GET /un/events/stream HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`),
  );
  // Fill the socket buffers: the client never reads, and its budget is too large to drop it.
  const tasks = Array.from({ length: 400 }, (_, i) => ({
    type: "noop",
    payload: { i, pad: "x".repeat(2_000) },
  }));
  for (let round = 0; round < 20; round++) {
    const res = await api(un.url, "POST", "/un/tasks/create", { tasks });
    assert.equal(res.status, 201);
  }
  const started = Date.now();
  const status = await un.stop("SIGTERM", 20_000);
  const took = Date.now() - started;
  assert.equal(
    status.code,
    0,
    `exit ${status.code} after ${took} ms\n${un.stderrText().slice(-2000)}`,
  );
  assert.equal(status.signal, null, `killed after ${took} ms: the stop hung`);
});
