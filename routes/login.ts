/**
 * Browser login in token mode: `GET /un/login` shows a form, posting the
 * token sets an HttpOnly, SameSite=Strict session cookie, after which the
 * inspector and the event stream work in a plain browser (EventSource cannot
 * send a header). `GET /un/login?ticket=…` redeems a one-time link from
 * `un open`. `POST /un/logout` ends the session.
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { html } from "hono/html";
import { createHash, timingSafeEqual } from "node:crypto";
import { newSession, SESSION_COOKIE, SESSION_TTL_MS, TicketBook } from "../lib/safety/session.ts";

/** The login page's path. */
export const LOGIN_PATH = "/un/login";
/** The logout's path. */
export const LOGOUT_PATH = "/un/logout";
/** Where a login goes when it was not sent from somewhere. */
const HOME = "/un/ui";

/** Only paths of this server: `/x`, never `//host` or `/\host`, which browsers treat as other hosts. */
function localPath(next: string | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) {
    return HOME;
  }
  return next;
}

function page(next: string, problem: string | null) {
  return html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>un · log in</title>
        <style>
      :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
      body { display: grid; place-items: center; min-height: 90vh; margin: 0 1rem; }
      form { display: grid; gap: .75rem; width: min(22rem, 100%); }
      input, button { font: inherit; padding: .5rem .6rem; }
      .problem { color: #c0392b; }
      p { margin: 0; }
    </style>
      </head>
      <body>
        <form method="post" action="${LOGIN_PATH}">
      <h1>un</h1>
      <p>This instance needs its API token (<code>api.token</code>, <code>UN_TOKEN</code>).</p>
      ${problem ? html`<p class="problem" role="alert">${problem}</p>` : ""}
      <label>Token <input name="token" type="password" autocomplete="current-password" required autofocus></label>
      <input type="hidden" name="next" value="${next}">
      <button type="submit">Log in</button>
        </form>
      </body>
    </html>
  `;
}

/**
 * Login routes, relative to `/un` ({@link LOGIN_PATH}, {@link LOGOUT_PATH}).
 * Without a token there is nothing to log in to: the page sends the browser on.
 */
export function loginRoutes(token: string | undefined): Hono {
  const app = new Hono();
  if (token === undefined) {
    app.get("/login", (c) => c.redirect(localPath(c.req.query("next")), 303));
    return app;
  }
  const tickets = new TicketBook();
  const expected = createHash("sha256").update(token).digest();

  const startSession = (c: Context, next: string) => {
    setCookie(c, SESSION_COOKIE, newSession(token), {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      secure: new URL(c.req.url).protocol === "https:",
      maxAge: Math.floor(SESSION_TTL_MS / 1000),
    });
    c.header("Cache-Control", "no-store");
    return c.redirect(localPath(next), 303);
  };

  app.get("/login", (c) => {
    const next = localPath(c.req.query("next"));
    const ticket = c.req.query("ticket");
    c.header("Cache-Control", "no-store");
    if (ticket !== undefined) {
      const problem = tickets.redeem(token, ticket);
      if (problem === null) return startSession(c, next);
      return c.html(page(next, problem), 401);
    }
    return c.html(page(next, null));
  });

  app.post("/login", async (c) => {
    const form = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
    const next = localPath(typeof form.next === "string" ? form.next : undefined);
    const given = typeof form.token === "string" ? form.token : "";
    const ok = timingSafeEqual(createHash("sha256").update(given).digest(), expected);
    if (!ok) return c.html(page(next, "That is not this instance's token."), 401);
    return startSession(c, next);
  });

  app.post("/logout", (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.redirect(LOGIN_PATH, 303);
  });

  return app;
}
