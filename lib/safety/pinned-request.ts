/**
 * One HTTP(S) request sent to addresses already checked: node:http /
 * node:https with a `lookup` that hands the socket only those addresses, so
 * the address `http.allow` was checked against is the address connected. fetch
 * cannot do this: it resolves the name again, and a hostile DNS server may
 * answer differently the second time (DNS rebinding).
 *
 * No npm package fits: request-filtering-agent (the known one) knows only
 * "private or not" plus lists of exact IPs, not our names, wildcards, CIDRs
 * and `public`, so it cannot apply `http.allow`. The rule stays in
 * outbound.ts (`allowedAddresses`) and this module only pins what it returned.
 *
 * The caller resolves and checks before the request rather than inside
 * `lookup`: node never calls `lookup` for an IP literal, which must be checked
 * all the same, and a refusal then comes before any socket exists.
 *
 * The URL keeps its name: the `Host` header and TLS (SNI and the certificate's
 * name check) use it, not the address.
 */

import { Buffer } from "node:buffer";
import http from "node:http";
import https from "node:https";
import { isIPv6, type LookupFunction } from "node:net";
import type { Readable } from "node:stream";
import zlib from "node:zlib";

/** The request of one hop; redirects may change its method, body and headers. */
export interface OutboundRequest {
  method: string;
  headers: Headers;
  body?: string;
}

/** Where and how {@link sendPinned} sends. */
export interface PinnedOptions {
  /** Checked addresses to connect to; null lets the system resolve the name (a listed name). */
  addresses: string[] | null;
  signal: AbortSignal;
  /** Extra CA certificates (PEM) besides the system's; tests' own CA only. */
  ca?: readonly string[];
  /**
   * What the connections are pooled by: the allow list the addresses were
   * checked against. A kept-alive socket is reused without a new lookup, so it
   * must only serve requests checked by the same rule.
   */
  pool: object;
}

/** Keep-alive agents of one pool (see {@link PinnedOptions.pool}). */
interface Agents {
  http: http.Agent;
  https: https.Agent;
}

/**
 * Idle kept-alive sockets close after this long: before the 5 s many servers
 * wait, so a request rarely goes out on a socket the server is closing.
 */
const IDLE_MS = 4_000;

const agents = new WeakMap<object, Agents>();

/**
 * The agents of a pool. Keep-alive matters: a new connection per request
 * halves the throughput of `http` tasks to a nearby server (and TLS costs a
 * handshake each time).
 */
function agentsOf(pool: object): Agents {
  let found = agents.get(pool);
  if (!found) {
    const options = { keepAlive: true, timeout: IDLE_MS };
    found = { http: new http.Agent(options), https: new https.Agent(options) };
    agents.set(pool, found);
  }
  return found;
}

/** Statuses whose response has no body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * Sends one request to `url` (no redirect followed) and returns the answer as
 * fetch would: a web Response whose body is decompressed (gzip, deflate, br,
 * as fetch asks for them) and errors when the connection breaks before its
 * end. Aborting `signal` destroys the request and errors the body.
 */
export function sendPinned(
  url: URL,
  request: OutboundRequest,
  options: PinnedOptions,
): Promise<Response> {
  const { signal } = options;
  signal.throwIfAborted();
  const headers = requestHeaders(url, request);
  const secure = url.protocol === "https:";
  const init: https.RequestOptions = {
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port || (secure ? 443 : 80),
    path: `${url.pathname}${url.search}`,
    method: request.method,
    headers,
    agent: agentsOf(options.pool)[secure ? "https" : "http"],
  };
  if (options.addresses) init.lookup = pinnedLookup(options.addresses);
  if (secure && options.ca) init.ca = [...options.ca];
  return new Promise<Response>((resolve, reject) => {
    const req = (secure ? https : http).request(init);
    const onAbort = () => {
      req.destroy(signal.reason);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const failed = (error: Error) =>
      new TypeError(`error sending request for url (${url.href}): ${error.message}`, {
        cause: error,
      });
    // `on`, not `once`: an error after the first (a reset socket, say) must not go unheard.
    req.on("error", (error) => {
      signal.removeEventListener("abort", onAbort);
      // As fetch says it: callers redact the URL where their messages show it.
      reject(signal.aborted ? signal.reason : failed(error));
    });
    req.once("response", (res) => {
      signal.removeEventListener("abort", onAbort);
      try {
        resolve(toResponse(res, req, request.method, signal));
      } catch (error) {
        // A status or header a web Response cannot hold (a status of 600, say) fails the request.
        req.destroy();
        reject(failed(error as Error));
      }
    });
    req.end(request.body === undefined ? undefined : request.body);
  });
}

/** The answer as a web Response; throws when it cannot be one. */
function toResponse(
  res: http.IncomingMessage,
  req: http.ClientRequest,
  method: string,
  signal: AbortSignal,
): Response {
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
  }
  const status = res.statusCode ?? 0;
  const init = { status, statusText: res.statusMessage ?? "", headers };
  if (method === "HEAD" || NULL_BODY.has(status)) {
    const response = new Response(null, init);
    res.resume();
    return response;
  }
  new Response(null, init); // throws on a status out of range before the body is wired up
  return new Response(webBody(res, decoded(res, headers), req, signal), init);
}

/** The request's headers as fetch sends them: its defaults unless set, a length for a body. */
function requestHeaders(url: URL, request: OutboundRequest): Record<string, string> {
  const headers = new Headers(request.headers);
  if (!headers.has("accept")) headers.set("accept", "*/*");
  // As fetch: ask for compression (feeds and APIs are text) and decode it in decoded().
  if (!headers.has("accept-encoding")) headers.set("accept-encoding", "gzip, deflate, br");
  if (url.username && !headers.has("authorization")) {
    const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.set("authorization", `Basic ${Buffer.from(user).toString("base64")}`);
  }
  if (request.body !== undefined) {
    if (!headers.has("content-type")) headers.set("content-type", "text/plain;charset=UTF-8");
    headers.set("content-length", String(Buffer.byteLength(request.body)));
  }
  return Object.fromEntries(headers);
}

/** A lookup answering only `addresses` (already checked), in the form node asks for. */
function pinnedLookup(addresses: readonly string[]): LookupFunction {
  const all = addresses.map((address) => ({ address, family: isIPv6(address) ? 6 : 4 }));
  return (hostname, options, callback) => {
    const found = options.family === 4 || options.family === 6
      ? all.filter((a) => a.family === options.family)
      : all;
    if (found.length === 0) {
      const error = Object.assign(new Error(`no IPv${options.family} address for ${hostname}`), {
        code: "ENOTFOUND",
      });
      callback(error, "", 0);
    } else if (options.all) {
      (callback as (e: null, a: typeof found) => void)(null, found);
    } else {
      callback(null, found[0].address, found[0].family);
    }
  };
}

/** The body stream, decompressed when the response says it is compressed (as fetch does). */
function decoded(res: http.IncomingMessage, headers: Headers): Readable {
  const coding = (headers.get("content-encoding") ?? "").trim().toLowerCase();
  // Lenient flushing, as fetch: a body cut short still yields what arrived.
  const flush = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  const decoder = coding === "gzip" || coding === "x-gzip"
    ? zlib.createGunzip(flush)
    : coding === "deflate"
    ? zlib.createInflate(flush)
    : coding === "br"
    ? zlib.createBrotliDecompress()
    : null;
  if (!decoder) return res;
  res.on("error", (error) => decoder.destroy(error));
  return res.pipe(decoder);
}

/**
 * A web stream over `source`, read as it is pulled (a slow reader pauses the
 * socket). It errors when the connection closes before the body ended or
 * `signal` aborts; cancelling it destroys the request.
 */
function webBody(
  res: http.IncomingMessage,
  source: Readable,
  req: http.ClientRequest,
  signal: AbortSignal,
): ReadableStream<Uint8Array> {
  let finished = false;
  let stop = () => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const fail = (error: unknown) => {
        if (finished) return;
        finished = true;
        stop();
        controller.error(error);
        req.destroy();
      };
      const onAbort = () => fail(signal.reason);
      stop = () => signal.removeEventListener("abort", onAbort);
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      source.on("data", (chunk: Buffer) => {
        if (finished) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) source.pause();
      });
      source.once("end", () => {
        if (finished) return;
        finished = true;
        stop();
        controller.close();
      });
      source.on("error", fail);
      res.on("error", fail);
      res.once("close", () => {
        if (!res.complete) fail(new Error("the connection closed before the response body ended"));
      });
    },
    pull() {
      source.resume();
    },
    cancel() {
      finished = true;
      stop();
      req.destroy();
    },
  });
}
