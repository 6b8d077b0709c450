/**
 * Black-box helpers for a running `un`'s event API: a live SSE stream and
 * publishing an event.
 */

import assert from "node:assert/strict";
import { readSse, type SseMessage } from "../../cli/sse.ts";
import type { CloudEvent } from "../../lib/events/cloud-event.ts";
import { api } from "./http.ts";
import type { UnProcess } from "./un-process.ts";

/**
 * Opens an SSE stream: `take(n)` reads n messages with a deadline,
 * `quiet(ms)` asserts nothing more comes, `close()` releases it.
 *
 * @example
 * ```ts
 * const stream = await openStream(`${un.url}/un/events/stream?type=x.*`);
 * const [message] = await stream.take(1);
 * await stream.close();
 * ```
 */
export async function openStream(
  url: string,
  headers: Record<string, string> = {},
  options: { connected?: boolean } = {},
) {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
  // The server says `: connected` once the subscription is in effect (on
  // Redis: other processes publish to it); an event made before then may come
  // later from the log, out of order. Tests publish after it, as a client would.
  const connected = Promise.withResolvers<void>();
  const messages = readSse(res.body!, (text) => {
    if (text === "connected") connected.resolve();
  })[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<SseMessage>> | null = messages.next();
  pending.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  // `connected: false` returns at the headers, for tests of what happens before.
  await Promise.race([
    options.connected === false ? undefined : connected.promise,
    pending.then(() => {}, () => {}),
    new Promise((resolve) => (timer = setTimeout(resolve, 10_000))),
  ]).finally(() => clearTimeout(timer));
  const next = (timeoutMs: number): Promise<SseMessage | null> => {
    pending ??= messages.next();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(resolve, timeoutMs, null)));
    return Promise.race([
      pending.then((r) => {
        pending = null;
        if (r.done) throw new Error("stream ended");
        return r.value;
      }),
      timeout,
    ]).finally(() => clearTimeout(timer));
  };
  return {
    async take(n: number, timeoutMs = 10_000): Promise<SseMessage[]> {
      const out: SseMessage[] = [];
      const end = Date.now() + timeoutMs;
      while (out.length < n) {
        const message = await next(Math.max(1, end - Date.now()));
        if (!message) throw new Error(`only ${out.length} of ${n} SSE events in ${timeoutMs}ms`);
        out.push(message);
      }
      return out;
    },
    async quiet(ms: number): Promise<void> {
      const message = await next(ms);
      assert.equal(message, null, `unexpected SSE event: ${JSON.stringify(message)}`);
    },
    async close() {
      controller.abort();
      await messages.return?.(undefined).catch(() => {});
      await res.body?.cancel().catch(() => {});
    },
  };
}

/**
 * Publishes an event through the API and returns the stored CloudEvent.
 *
 * @example
 * ```ts
 * const event = await publish(un, "deploy.done", { sha: "abc" });
 * ```
 */
export async function publish(
  un: UnProcess,
  type: string,
  data: unknown = null,
): Promise<CloudEvent> {
  const res = await api<{ event: CloudEvent }>(un.url, "POST", "/un/events/publish", {
    type,
    data,
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.event;
}

/**
 * The event history of `type` (a pattern) on one process, up to 1 000 events.
 *
 * @example
 * ```ts
 * const created = await history(un, "file.created");
 * ```
 */
export async function history(
  un: UnProcess,
  type: string,
  headers: Record<string, string> = {},
): Promise<CloudEvent[]> {
  const res = await api<{ events: CloudEvent[] }>(
    un.url,
    "GET",
    `/un/events/history?type=${type}&limit=1000`,
    undefined,
    headers,
  );
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.events;
}
