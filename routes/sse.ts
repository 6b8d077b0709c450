/**
 * Server-sent event streams that behave under load and at shutdown: writes
 * are queued in order, a comment every 15 s keeps proxies from closing an idle
 * stream, a client that reads too slowly is disconnected (it reconnects with
 * `Last-Event-ID`) instead of growing memory, and every stream ends when the
 * runtime stops so the server's graceful shutdown does not wait on it.
 */

import type { Context } from "hono";
import { type SSEMessage, streamSSE } from "hono/streaming";
import type { ControlPlane } from "../lib/control.ts";

/** Heartbeat comment interval. */
const HEARTBEAT_MS = 15_000;
/** Writes a slow client may have outstanding before it is disconnected. */
const MAX_PENDING = 10_000;

/**
 * What a stream's producer gets.
 *
 * @example
 * ```ts
 * const off = control.subscribe("**", (event) => void feed.send({ id: event.id, data: JSON.stringify(event) }));
 * ```
 */
export interface SseFeed {
  /** Queues a message; the promise settles once it is written (await it to apply backpressure). */
  send(message: SSEMessage): Promise<void>;
  /** Ends the stream (the client reconnects if it wants more). */
  close(): void;
}

/**
 * Answers with an SSE stream. `start` sets up the producer and returns its
 * clean-up (unsubscribe), which runs when the client goes away, the stream is
 * closed or the runtime stops.
 *
 * @example
 * ```ts
 * app.get("/feed", (c) =>
 *   sseStream(c, control, (feed) => control.subscribe("**", (e) => void feed.send({ data: JSON.stringify(e) }))));
 * ```
 */
export function sseStream(
  c: Context,
  control: ControlPlane,
  start: (feed: SseFeed) => Promise<() => void> | (() => void),
): Response {
  // Hono answers HEAD by running the GET handler and dropping the body; a
  // dropped stream is never cancelled, so it would subscribe forever.
  if (c.req.method === "HEAD") return c.body(null, 200, { "content-type": "text/event-stream" });
  return streamSSE(c, async (stream) => {
    const ended = Promise.withResolvers<void>();
    let closed = false;
    let pending = 0;
    let chain: Promise<void> = Promise.resolve();
    const close = () => {
      closed = true;
      ended.resolve();
    };
    const enqueue = (write: () => Promise<unknown>): Promise<void> => {
      if (closed) return Promise.resolve();
      if (++pending > MAX_PENDING) {
        close();
        return Promise.resolve();
      }
      chain = chain.then(write).then(() => {}, close).finally(() => pending--);
      return chain;
    };
    const feed: SseFeed = { send: (message) => enqueue(() => stream.writeSSE(message)), close };
    stream.onAbort(close);
    control.done?.then(close);
    const heartbeat = setInterval(
      () => void enqueue(() => stream.write(": heartbeat\n\n")),
      HEARTBEAT_MS,
    );
    let cleanup: () => void = () => {};
    try {
      // Subscribed first: from the opening comment on, every new event
      // reaches the client (the headers may reach it before that comment).
      cleanup = await start(feed);
      await enqueue(() => stream.write(": connected\n\n"));
      await ended.promise;
    } finally {
      clearInterval(heartbeat);
      cleanup();
      closed = true;
      await chain.catch(() => {});
    }
  }, (err) => {
    control.log.warn("event stream failed", { path: c.req.path, error: err.message });
    return Promise.resolve();
  });
}
