/**
 * Browser-origin protection, in front of every route (token or not): a web
 * page the operator happens to visit must never drive or read un.
 *
 * - `Host` must name loopback, an IP address, the bound host or one of
 *   `api.allowedHosts`, else 421: a DNS-rebinding page always sends its own
 *   domain name, never an IP literal.
 * - A request whose `Origin` is neither un's own origin nor one of
 *   `api.cors.origins`, or which the browser marks `Sec-Fetch-Site:
 *   cross-site` without such an origin, gets 403. curl and the CLI send
 *   neither header and pass.
 * - A request that changes something must carry a JSON body (or none): a
 *   browser can send `text/plain`, form or multipart bodies cross-site without
 *   a preflight, never `application/json`, so anything else gets 415.
 * - CORS headers go only to `api.cors.origins` (Hono's `cors()`).
 */

import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { isIP } from "node:net";
import { errorResponse } from "./errors.ts";

/** What the guard needs from the config. */
export interface GuardOptions {
  /** `api.host`: the address un bound. */
  boundHost: string;
  /** `api.allowedHosts`. */
  allowedHosts: readonly string[];
  /** `api.cors.origins`. */
  corsOrigins: readonly string[];
  /** Paths that take a non-JSON body on purpose (the login form, the GitHub webhook). */
  formPaths: (path: string) => boolean;
}

const CHANGING_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** `localhost`, `*.localhost` (RFC 6761 keeps them on this machine) and bracketed IPv6. */
function hostName(host: string): string {
  const bracketed = host.match(/^\[([^\]]+)\](?::\d+)?$/);
  if (bracketed) return bracketed[1].toLowerCase();
  return host.replace(/:\d+$/, "").replace(/\.$/, "").toLowerCase();
}

/** Whether a `Host` header value names this server (see the module comment). */
export function hostAllowed(host: string, options: GuardOptions): boolean {
  const name = hostName(host);
  if (name === "" || /[\s/@]/.test(name)) return false;
  if (isIP(name) !== 0) return true;
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (name === options.boundHost.toLowerCase()) return true;
  return options.allowedHosts.some((allowed) => allowed.toLowerCase() === name);
}

/**
 * Whether `origin` is un's own: same host and port as the request's `Host`.
 * Either scheme, since a TLS proxy in front makes the browser's `https:`.
 */
function isOwnOrigin(origin: string, host: string): boolean {
  const match = origin.toLowerCase().match(/^https?:\/\/([^/]+)$/);
  return match !== null && match[1] === host.toLowerCase();
}

function isJsonType(contentType: string): boolean {
  const essence = contentType.split(";")[0].trim().toLowerCase();
  return essence === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(essence);
}

function hasBody(c: Context): boolean {
  const length = c.req.header("content-length");
  if (length !== undefined) return length.trim() !== "0";
  return c.req.header("transfer-encoding") !== undefined;
}

/**
 * The guard middleware and the CORS middleware, to be mounted on `*` first.
 *
 * @example
 * ```ts
 * for (const mw of browserGuard({ boundHost: "127.0.0.1", allowedHosts: [], corsOrigins: [], formPaths: () => false })) app.use("*", mw);
 * ```
 */
export function browserGuard(options: GuardOptions): MiddlewareHandler[] {
  const corsOrigins = new Set(options.corsOrigins.map((o) => o.toLowerCase()));
  const guard: MiddlewareHandler = async (c, next) => {
    const host = c.req.header("host") ?? "";
    if (!hostAllowed(host, options)) {
      return errorResponse(
        c,
        421,
        "misdirected_request",
        `Host ${JSON.stringify(host)} does not name this server; ` +
          "use a loopback address, or list the name in api.allowedHosts",
        {
          field: "Host",
          value: host,
          allowed: ["localhost", "IP addresses", ...allowedNames(options)],
        },
      );
    }
    const origin = c.req.header("origin");
    const site = c.req.header("sec-fetch-site")?.toLowerCase();
    const listed = origin !== undefined && corsOrigins.has(origin.toLowerCase());
    const foreignOrigin = origin !== undefined && !listed && !isOwnOrigin(origin, host);
    if (foreignOrigin || (site === "cross-site" && !listed)) {
      return errorResponse(
        c,
        403,
        "forbidden_origin",
        origin !== undefined && foreignOrigin
          ? `requests from the web page at ${origin} are refused; list the origin in api.cors.origins to allow it`
          : "cross-site requests from web pages are refused; open un's own pages directly",
        {
          field: origin !== undefined && foreignOrigin ? "Origin" : "Sec-Fetch-Site",
          value: origin ?? site,
          allowed: [...corsOrigins],
        },
      );
    }
    if (CHANGING_METHODS.has(c.req.method) && !options.formPaths(c.req.path)) {
      const type = c.req.header("content-type");
      if (type !== undefined ? !isJsonType(type) : hasBody(c)) {
        return errorResponse(
          c,
          415,
          "unsupported_media_type",
          `the body must be JSON sent as Content-Type: application/json, got ${
            type ?? "no Content-Type"
          }`,
          { field: "Content-Type", value: type ?? null, allowed: ["application/json"] },
        );
      }
    }
    await next();
  };
  if (corsOrigins.size === 0) return [guard];
  const corsHeaders = cors({
    origin: (origin) => corsOrigins.has(origin.toLowerCase()) ? origin : null,
    allowHeaders: ["Authorization", "Content-Type", "Last-Event-ID"],
    allowMethods: ["GET", "HEAD", "POST", "PATCH", "DELETE"],
    exposeHeaders: ["Retry-After", "X-Request-Id"],
    maxAge: 600,
  });
  return [guard, corsHeaders];
}

function allowedNames(options: GuardOptions): string[] {
  const names = [...options.allowedHosts];
  if (isIP(options.boundHost) === 0) names.push(options.boundHost);
  return names;
}
