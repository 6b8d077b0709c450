/**
 * Who may use the API when `api.token` is set: a request with
 * `Authorization: Bearer <token>`, or a browser holding the session cookie
 * that `/un/login` gives. `/health` stays open for load balancers, the login
 * page for the browser that wants in, and the GitHub webhook authenticates by
 * its own signature. A browser asking for a page is sent to the login page;
 * anything else gets 401 with `WWW-Authenticate: Bearer` and what to send.
 */

import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { createHash, timingSafeEqual } from "node:crypto";
import { SESSION_COOKIE, validSession } from "../lib/safety/session.ts";
import { errorResponse } from "./errors.ts";
import { LOGIN_PATH } from "./login.ts";

/** Paths that never need the token. */
export interface OpenPaths {
  (path: string): boolean;
}

function digest(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}

/**
 * The auth middleware for a token.
 */
export function tokenAuth(token: string, open: OpenPaths): MiddlewareHandler {
  // Compared as digests: constant time whatever the lengths.
  const expected = digest(token);
  return async (c, next) => {
    if (open(c.req.path)) return await next();
    const header = c.req.header("authorization");
    const bearer = header?.match(/^Bearer +([^\s]+) *$/i)?.[1];
    if (bearer !== undefined && timingSafeEqual(digest(bearer), expected)) return await next();
    const session = getCookie(c, SESSION_COOKIE);
    if (session !== undefined && validSession(token, session)) return await next();

    const wantsPage = c.req.method === "GET" &&
      (c.req.header("accept") ?? "").includes("text/html");
    if (wantsPage && header === undefined) {
      const next = c.req.path + (new URL(c.req.url).search);
      return c.redirect(`${LOGIN_PATH}?next=${encodeURIComponent(next)}`, 303);
    }
    c.header("WWW-Authenticate", 'Bearer realm="un"');
    return errorResponse(
      c,
      401,
      "unauthorized",
      header === undefined
        ? "this un needs its token: send Authorization: Bearer <api.token> (the CLI sends UN_TOKEN), or log in at /un/login in a browser"
        : "wrong token: send Authorization: Bearer <api.token> (the CLI sends UN_TOKEN), or log in at /un/login in a browser",
      { header: "Authorization", login: LOGIN_PATH, env: "UN_TOKEN" },
    );
  };
}
