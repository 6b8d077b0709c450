/**
 * An HTTP server whose clients must send each request's head, and then its
 * body, within a read timeout, and may keep an idle connection only so long.
 * `Deno.serve` has no such limits (denoland/deno#3515), so a slow-header
 * ("slowloris") or slow-body client could hold a connection for ever.
 *
 * The TCP port is served here: each connection is passed byte for byte to
 * `Deno.serve` on a private Unix socket, while {@link RequestFraming} follows
 * the client's bytes to know when a deadline runs. A connection past its
 * deadline is closed.
 */

import { join } from "node:path";
import { RequestFraming } from "./request-framing.ts";

/** Options of {@link serveWithDeadlines}. */
export interface DeadlineServerOptions {
  hostname: string;
  port: number;
  /** A request's head, then its body, must arrive within this long. */
  readTimeoutMs: number;
  /** A connection with no bytes either way for this long is closed (keep-alive idle). */
  idleTimeoutMs?: number;
  handler: Deno.ServeHandler;
  onListen?: (addr: Deno.NetAddr) => void;
  /** Told of each connection closed by a deadline. */
  onTimeout?: (phase: "head" | "body" | "idle", remote: string) => void;
}

/** A running server. */
export interface DeadlineServer {
  readonly addr: Deno.NetAddr;
  /** Stops accepting, closes idle connections, and waits for requests in flight (closing those still open after 2 s). */
  shutdown(): Promise<void>;
}

const DEFAULT_IDLE_MS = 75_000;
/** How long a shutdown waits for requests in flight before it closes their connections. */
const SHUTDOWN_GRACE_MS = 2_000;

/**
 * Serves `handler` on `hostname:port` with read deadlines.
 *
 * @example
 * ```ts
 * const server = await serveWithDeadlines({ hostname: "127.0.0.1", port: 0, readTimeoutMs: 30_000, handler: app.fetch });
 * await server.shutdown();
 * ```
 */
export async function serveWithDeadlines(options: DeadlineServerOptions): Promise<DeadlineServer> {
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  const dir = await Deno.makeTempDir({ prefix: "un-api-" });
  const path = join(dir, "api.sock");
  const inner = Deno.serve({ path, onListen: () => {} }, options.handler);
  const connections = new Set<Deno.Conn>();
  const addr = listener.addr as Deno.NetAddr;
  options.onListen?.(addr);

  const accepting = (async () => {
    for await (const client of listener) {
      connections.add(client);
      void relay(client, path, options).catch(() => {}).finally(() => {
        connections.delete(client);
      });
    }
  })().catch(() => {});

  return {
    addr,
    async shutdown() {
      listener.close();
      await accepting;
      // Requests in flight get a moment to finish; a client that stopped
      // reading would otherwise hold the shutdown for ever (its response
      // can never be delivered), so then its connection is closed.
      const finished = inner.shutdown();
      const grace = Promise.withResolvers<void>();
      const timer = setTimeout(grace.resolve, SHUTDOWN_GRACE_MS);
      await Promise.race([finished, grace.promise]);
      clearTimeout(timer);
      for (const conn of connections) closeQuietly(conn);
      await finished;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** Passes one client connection to the inner server, minding the deadlines. */
async function relay(
  client: Deno.TcpConn,
  path: string,
  options: DeadlineServerOptions,
): Promise<void> {
  client.setNoDelay(true);
  const server = await Deno.connect({ transport: "unix", path });
  const framing = new RequestFraming();
  const idleMs = options.idleTimeoutMs ?? Math.max(DEFAULT_IDLE_MS, options.readTimeoutMs);
  const remote = `${client.remoteAddr.hostname}:${client.remoteAddr.port}`;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerPhase: "head" | "body" | "idle" | null = null;
  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    closeQuietly(client);
    closeQuietly(server);
  };
  /** (Re)arms the deadline that fits the phase; a running head or body deadline is never extended. */
  const arm = (phase: "head" | "body" | "idle" | null, restart: boolean) => {
    if (phase === timerPhase && !restart) return;
    clearTimeout(timer);
    timerPhase = phase;
    if (phase === null) return;
    timer = setTimeout(() => {
      options.onTimeout?.(phase, remote);
      close();
    }, phase === "idle" ? idleMs : options.readTimeoutMs);
  };
  const follow = () => {
    const phase = framing.phase;
    if (phase === "invalid") return close();
    arm(phase === "head" || phase === "body" ? phase : phase === "opaque" ? null : "idle", false);
  };
  // The first request must start within the read timeout, like any other head.
  arm("head", true);

  const upstream = (async () => {
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      const read = await client.read(buffer);
      if (read === null) break;
      const chunk = buffer.subarray(0, read);
      framing.push(chunk);
      follow();
      if (closed) return;
      // An idle connection that talks again starts a fresh idle wait.
      if (timerPhase === "idle") arm("idle", true);
      let written = 0;
      while (written < read) written += await server.write(chunk.subarray(written));
    }
    await server.closeWrite().catch(() => {});
  })();
  const downstream = (async () => {
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      const read = await server.read(buffer);
      if (read === null) break;
      if (timerPhase === "idle") arm("idle", true);
      let written = 0;
      while (written < read) written += await client.write(buffer.subarray(written, read));
    }
  })();
  // The server ending its side (a response with `Connection: close`, a
  // shutdown) or either side failing (a reset, a deadline) ends both.
  await Promise.allSettled([upstream.catch(close), downstream.finally(close)]);
  close();
}
