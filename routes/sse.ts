/**
 * Server-sent event streams that cannot hurt the process. Each client has a
 * queue of its own that counts bytes, in front of a response stream that
 * holds nothing: a frame is queued synchronously (no promise per message),
 * the server takes one per read, the bytes the client has not taken are
 * capped by `api.sseMaxBufferedBytes`, and a client past the cap has its
 * queue dropped and gets a final `event: overflow` frame naming the last
 * event id it was sent, so it can resume with `Last-Event-ID`. A client that goes away
 * releases its queue, subscription and timer at once; a comment every 15 s
 * keeps proxies from closing an idle stream; every stream ends when the
 * runtime stops.
 *
 * Why not a promise per message (as on Hono's `streamSSE` writer, which
 * waits for the socket): a client that stops reading piles up a pending chain
 * of them, with their messages, in memory; when it disconnects every queued
 * write fails at once, and for each failure V8's async stack trace capture
 * walks the rest of the pending chain, so n queued messages cost O(n²) of
 * blocked event loop: four clients that stopped reading during 18 000 events
 * froze the process for a minute and a half once they disconnected.
 */

import type { Context } from "hono";
import type { ControlPlane } from "../lib/control.ts";

/** Heartbeat comment interval. */
const HEARTBEAT_MS = 15_000;
const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(": heartbeat\n\n");
const CONNECTED = encoder.encode(": connected\n\n");
const HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  // Reverse proxies (nginx) would otherwise buffer the stream.
  "x-accel-buffering": "no",
};

/**
 * One server-sent event to encode.
 */
export interface SseMessage {
  /** Sets the client's last event id (what it sends back as `Last-Event-ID`). */
  id?: string;
  /** Event name; without one the client sees a plain `message` event. */
  event?: string;
  data: string;
}

/** A field value on one line (an SSE field cannot hold a line break). */
function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, " ");
}

/**
 * Encodes one event as an SSE frame. Encode once and send the same bytes to
 * every client: queues then share them.
 */
export function encodeSse(message: SseMessage): Uint8Array {
  let text = message.event ? `event: ${oneLine(message.event)}\n` : "";
  if (message.id !== undefined) text += `id: ${oneLine(message.id)}\n`;
  text += `data: ${message.data.replace(/\r\n|\r|\n/g, "\ndata: ")}\n\n`;
  return encoder.encode(text);
}

/**
 * What a stream's producer gets. Sending never waits: a frame is queued or,
 * past the byte budget, the client is dropped.
 */
export interface SseFeed {
  /**
   * Queues a frame ({@link encodeSse}); `id` becomes the last id sent. False
   * when the stream takes no more (closed, dropped, client gone): stop producing.
   */
  send(frame: Uint8Array, id?: string): boolean;
  /**
   * Whether `bytes` more fit in the client's budget now. A frame larger than
   * the whole budget fits when nothing is queued, so one big event cannot
   * wedge a client.
   */
  fits(bytes: number): boolean;
  /** Resolves once `bytes` more fit, or the stream takes no more (for producers that can wait, such as a replay). */
  room(bytes: number): Promise<void>;
  /** Whether the stream still takes frames. */
  readonly open: boolean;
  /** Drops the client: a final `overflow` frame saying why, then the end. */
  overflow(reason: string): void;
  /** Ends the stream after what is queued (the client reconnects if it wants more). */
  close(): void;
}

/** Streams to end when a runtime stops, per `control.done`. */
const stoppers = new WeakMap<Promise<unknown>, { stopped: boolean; streams: Set<() => void> }>();

/** Calls `fn` when the runtime stops; returns how to forget it (one listener per runtime, not per stream). */
function onStop(control: Omit<ControlPlane, "store">, fn: () => void): () => void {
  const done = control.done;
  if (!done) return () => {};
  let entry = stoppers.get(done);
  if (!entry) {
    const created = { stopped: false, streams: new Set<() => void>() };
    stoppers.set(done, created);
    done.then(() => {
      created.stopped = true;
      for (const stop of created.streams) stop();
      created.streams.clear();
    });
    entry = created;
  }
  if (entry.stopped) {
    queueMicrotask(fn);
    return () => {};
  }
  const streams = entry.streams;
  streams.add(fn);
  return () => streams.delete(fn);
}

/**
 * Answers with an SSE stream. `start` runs before this returns (so what it
 * subscribes to is heard from the response on) and gives back its clean-up
 * (unsubscribe), which runs as soon as the stream takes no more frames.
 * `lastEventId` is the id the client resumed after: an overflow before any
 * event names it.
 *
 * @example
 * ```ts
 * app.get("/feed", (c) =>
 *   sseStream(c, control, (feed) => control.subscribe("**", (e) => void feed.send(frameOf(e), e.id))));
 * ```
 */
export function sseStream(
  c: Context,
  control: Omit<ControlPlane, "store">,
  start: (feed: SseFeed) => Promise<() => void> | (() => void),
  lastEventId?: string,
): Response {
  // Hono answers HEAD by running the GET handler and dropping the body; a
  // dropped stream is never cancelled, so it would subscribe forever.
  if (c.req.method === "HEAD") return c.body(null, 200, HEADERS);
  const budget = control.config.api.sseMaxBufferedBytes;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let open = true;
  let gone = false;
  // Frames the server has not taken yet (a FIFO from `head`), their ids and bytes.
  let frames: Uint8Array[] = [];
  let ids: Array<string | undefined> = [];
  let head = 0;
  let queued = 0;
  // The server's last read found nothing: the next frame goes straight to it.
  let wanting = false;
  // The id of the last frame the server took: the client has it, or has it in its socket.
  let taken: string | null = lastEventId ?? null;
  let cleanup: (() => void) | null = null;
  let waiters: Array<{ bytes: number; resolve: () => void }> = [];
  const fits = (bytes: number) => queued === 0 || queued + bytes <= budget;
  const hand = (frame: Uint8Array, id: string | undefined) => {
    controller.enqueue(frame);
    if (id !== undefined) taken = id;
  };
  const drop = () => {
    frames = [];
    ids = [];
    head = queued = 0;
  };

  const release = () => {
    open = false;
    clearInterval(heartbeat);
    forget();
    const fn = cleanup;
    cleanup = null;
    try {
      fn?.();
    } catch (err) {
      control.log.warn("event stream clean-up failed", { error: (err as Error).message });
    }
    for (const waiter of waiters) waiter.resolve();
    waiters = [];
  };
  /** Ends the stream: what is still queued goes first, or is dropped with `backlog: "drop"`. */
  const end = (backlog: "send" | "drop", last?: Uint8Array) => {
    if (!open) return;
    release();
    if (gone) return drop();
    if (backlog === "send") { for (let i = head; i < frames.length; i++) hand(frames[i], ids[i]); }
    drop();
    if (last) controller.enqueue(last);
    controller.close();
  };
  // What the client has not taken is dropped at once, not kept for it: it
  // resumes after the last frame the server took, which the overflow names.
  const overflow = (reason: string) => {
    if (!open) return;
    const bytes = queued;
    control.log.warn("event stream client dropped", { path: c.req.path, reason, bytes, taken });
    end(
      "drop",
      encodeSse({
        event: "overflow",
        data: JSON.stringify({ reason, lastEventId: taken, bufferedBytes: bytes, limit: budget }),
      }),
    );
  };
  const send = (frame: Uint8Array, id?: string): boolean => {
    if (!open) return false;
    if (!fits(frame.byteLength)) {
      overflow(
        `the client read too slowly: more than ${budget} bytes (api.sseMaxBufferedBytes) ` +
          "were waiting for it; reconnect with Last-Event-ID to resume",
      );
      return false;
    }
    if (wanting) {
      wanting = false;
      hand(frame, id);
    } else {
      frames.push(frame);
      ids.push(id);
      queued += frame.byteLength;
    }
    return true;
  };
  const feed: SseFeed = {
    send,
    fits,
    room: (bytes) => {
      if (!open || fits(bytes)) return Promise.resolve();
      const waiter = Promise.withResolvers<void>();
      waiters.push({ bytes, resolve: waiter.resolve });
      return waiter.promise;
    },
    get open() {
      return open;
    },
    overflow,
    close: () => end("send"),
  };

  // No queue inside the stream (high-water mark 0): the server takes one
  // frame per read, so `queued` is exactly what the client has not taken.
  const body = new ReadableStream<Uint8Array>({
    start: (c) => void (controller = c),
    pull: () => {
      if (head === frames.length) return void (wanting = true);
      const frame = frames[head];
      const id = ids[head];
      queued -= frame.byteLength;
      if (++head === frames.length) drop();
      else if (head >= 1_024 && head * 2 >= frames.length) {
        frames = frames.slice(head);
        ids = ids.slice(head);
        head = 0;
      }
      hand(frame, id);
      if (waiters.length === 0) return;
      const ready = waiters.filter((w) => fits(w.bytes));
      waiters = waiters.filter((w) => !fits(w.bytes));
      for (const waiter of ready) waiter.resolve();
    },
    // The client went away: let go of everything at once.
    cancel: () => {
      gone = true;
      release();
      drop();
    },
  }, { highWaterMark: 0 });

  const heartbeat = setInterval(() => send(HEARTBEAT), HEARTBEAT_MS);
  // At shutdown the backlog is dropped (a client that does not read would
  // keep it); the client resumes after what it got.
  const forget = onStop(control, () => end("drop"));

  // The executor runs start now; a throw becomes the rejection.
  new Promise<() => void>((resolve) => resolve(start(feed))).then((fn) => {
    if (open) {
      cleanup = fn;
      send(CONNECTED);
    } else fn();
  }, (err: Error) => {
    control.log.warn("event stream failed", { path: c.req.path, error: err.message });
    end("send", encodeSse({ event: "error", data: err.message }));
  });
  return c.body(body, 200, HEADERS);
}
