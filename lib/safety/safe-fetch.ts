/**
 * One outbound request checked against `http.allow` at every hop: the URL's
 * name is resolved once right before it is requested, every address checked,
 * and the request connects to those addresses only (pinned-request.ts), so
 * the address checked is the address connected, whatever DNS answers next.
 * Redirects are followed here, not by fetch, so each `Location` is checked
 * too. The `http` task and the pollers of run-time sources share it.
 *
 * Checking right before each request also covers a name that resolved to an
 * allowed address when the source was added and resolves elsewhere later.
 */

import { getProxyForUrl } from "proxy-from-env";
import { ValidationError } from "../errors.ts";
import { allowedAddresses, type Resolver, urlHost } from "./outbound.ts";
import { type OutboundRequest, sendPinned } from "./pinned-request.ts";

export type { OutboundRequest } from "./pinned-request.ts";

/** Redirect statuses followed (with a Location), up to {@link MAX_REDIRECTS} hops. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Most redirects one request follows. */
export const MAX_REDIRECTS = 5;

/** Request headers dropped when a redirect leaves the origin. */
const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"] as const;

/** How {@link safeFetch} checks and follows. */
export interface SafeFetchOptions {
  /**
   * `http.allow`, or null for a request of the operator's own (a config-file
   * source): then fetch follows redirects itself, unchecked.
   */
  allow: readonly string[] | null;
  /** What refusals of the first URL name (`url`, `payload.url`). */
  field: string;
  signal: AbortSignal;
  /** Called before each hop is sent (the first and each redirect): signs, say. */
  beforeSend?: (url: URL, request: OutboundRequest) => void;
  /** Resolves names of checked hops; the system resolver by default (tests inject one). */
  resolve?: Resolver;
  /** Extra CA certificates (PEM) trusted on checked hops: tests' own CA, nothing else. */
  ca?: readonly string[];
}

/**
 * A request refused before it was sent: a host `http.allow` does not cover,
 * a redirect that cannot be followed, too many redirects. Its message names
 * the field (or the redirect's origin and path), the host and `http.allow`;
 * never the query or user info of a URL.
 */
export class OutboundRefusal extends Error {
  /** False when the same request may pass later (its host did not resolve now). */
  readonly permanent: boolean;

  constructor(message: string, permanent: boolean) {
    super(message);
    this.name = "OutboundRefusal";
    this.permanent = permanent;
  }
}

/** Origin and path: query strings and user info often hold tokens, so messages leave them out. */
export function where(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/**
 * Fetches `url` with `redirect: "manual"`, checking it and every redirect
 * against `allow`, and follows at most {@link MAX_REDIRECTS} redirects as a
 * browser does: 303 (and 301/302 of a POST) become a GET without body,
 * credentials (Authorization, Cookie) are not sent to another origin. The
 * response of the last hop is returned whatever its status.
 *
 * Checked hops are sent with node:http(s) to the addresses checked; the
 * answer is a web Response as fetch gives (decompressed body that errors
 * when the connection breaks). Throws {@link OutboundRefusal} when a hop is
 * refused, the network's error when it fails, the signal's reason when
 * aborted.
 *
 * @example
 * ```ts
 * const response = await safeFetch(
 *   "https://example.com/feed.xml",
 *   { method: "GET", headers: new Headers() },
 *   { allow: config.http.allow, field: "url", signal },
 * );
 * ```
 */
export async function safeFetch(
  url: string | URL,
  request: OutboundRequest,
  options: SafeFetchOptions,
): Promise<Response> {
  const { allow, signal } = options;
  let current = new URL(url);
  const hop: OutboundRequest = { ...request, headers: new Headers(request.headers) };
  if (allow === null) {
    options.beforeSend?.(current, hop);
    return await fetch(current, { ...hop, signal, redirect: "follow" });
  }
  let addresses = await admit(current, allow, options.field, options);
  for (let hops = 0;; hops++) {
    options.beforeSend?.(current, hop);
    // Through a proxy (HTTP_PROXY, HTTPS_PROXY and NO_PROXY, as fetch reads them)
    // the proxy connects, so there is no socket to pin: the hop is checked as
    // above, sent with fetch, and the proxy's own egress rules apply past that.
    const response = getProxyForUrl(current.href) !== ""
      ? await fetch(current, { ...hop, signal, redirect: "manual" })
      : await sendPinned(current, hop, { addresses, signal, ca: options.ca, pool: allow });
    const location = REDIRECTS.has(response.status) ? response.headers.get("location") : null;
    if (location === null) return response;
    await response.body?.cancel();
    const next = redirectTarget(location, current, hops);
    addresses = await admit(next, allow, `redirect to ${where(next)}`, options);
    if (response.status === 303 || (response.status <= 302 && hop.method === "POST")) {
      hop.method = hop.method === "HEAD" ? "HEAD" : "GET";
      hop.body = undefined;
      hop.headers.delete("content-type");
    }
    // As browsers do: credentials meant for one origin do not follow a redirect to another.
    if (next.origin !== current.origin) CREDENTIAL_HEADERS.forEach((h) => hop.headers.delete(h));
    current = next;
  }
}

/**
 * The addresses a hop may connect to (null: its name is listed, so the system
 * resolves it), or a refusal when `allow` does not cover the URL; a name that
 * does not resolve now may later, so that refusal is not permanent.
 */
async function admit(
  url: URL,
  allow: readonly string[],
  field: string,
  options: SafeFetchOptions,
): Promise<string[] | null> {
  const host = urlHost(url.href);
  if (!host) throw new OutboundRefusal(`${field}: not a URL with a host`, true);
  try {
    return await allowedAddresses(host, allow, field, options);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    throw new OutboundRefusal(err.message, err.details.reason !== "unresolved");
  }
}

/** Where a redirect leads, or a refusal when it cannot be followed. */
function redirectTarget(location: string, from: URL, hops: number): URL {
  if (hops >= MAX_REDIRECTS) {
    throw new OutboundRefusal(`more than ${MAX_REDIRECTS} redirects`, true);
  }
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new OutboundRefusal("redirect to an invalid location", true);
  }
  if (next.protocol !== "http:" && next.protocol !== "https:") {
    throw new OutboundRefusal(`redirect to a ${next.protocol} URL`, true);
  }
  return next;
}
