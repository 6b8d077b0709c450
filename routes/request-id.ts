/**
 * Request ids and the request log. Every answer carries `X-Request-Id`: the
 * client's own when it sent a sane one (a token of at most 128 characters,
 * so a proxy's id follows the request through), else a new ULID. Each request
 * is logged once it is answered, with its id, method, path (no query string),
 * status and duration: at debug level, or at info for a 5xx, which an
 * operator wants to find by the id a client reports. Bodies and headers
 * (`Authorization` above all) are never logged.
 */

import type { MiddlewareHandler } from "hono";
import { newId } from "../lib/events/cloud-event.ts";
import type { Logger } from "../lib/log.ts";

/** The header, in requests and answers. */
export const REQUEST_ID_HEADER = "X-Request-Id";

/** What a client's id may be: letters, digits and `-._:~+/=` (UUIDs, ULIDs, base64), 1–128 long. */
const SANE_ID = /^[A-Za-z0-9\-._:~+/=]{1,128}$/;

/**
 * The client's request id when it is sane, else a new one.
 */
export function requestIdOf(given: string | undefined): string {
  return given !== undefined && SANE_ID.test(given) ? given : newId();
}

/**
 * The middleware: mount it first, so refusals by later middleware carry an id too.
 */
export function requestId(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const id = requestIdOf(c.req.header(REQUEST_ID_HEADER));
    const started = performance.now();
    await next();
    try {
      c.res.headers.set(REQUEST_ID_HEADER, id);
    } catch {
      // A response with immutable headers (one passed through from fetch): copied once.
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set(REQUEST_ID_HEADER, id);
    }
    const status = c.res.status;
    const fields = {
      requestId: id,
      method: c.req.method,
      path: c.req.path,
      status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
    };
    if (status >= 500) log.info("request answered", fields);
    else log.debug("request answered", fields);
  };
}
