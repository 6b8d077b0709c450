/**
 * Browser sessions in token mode, without server-side state so every process
 * of a cluster that shares the token accepts them: a session is
 * `v1.<expiry>.<HMAC(token, "session." + expiry)>`, a one-time login ticket
 * (what `un open` prints) is `<expiry>.<nonce>.<HMAC(token, "ticket." ...)>`.
 * Changing the token ends every session and ticket.
 */

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** How long a browser session lasts. */
export const SESSION_TTL_MS = 24 * 3_600_000;
/** How long a login ticket from `un open` may wait to be used. */
export const TICKET_TTL_MS = 120_000;
/** The session cookie's name. */
export const SESSION_COOKIE = "un_session";

function mac(token: string, text: string): string {
  return createHmac("sha256", token).update(text).digest("base64url");
}

function sameText(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A new session value, valid for {@link SESSION_TTL_MS}. */
export function newSession(token: string, now = Date.now()): string {
  const expiry = now + SESSION_TTL_MS;
  return `v1.${expiry}.${mac(token, `session.${expiry}`)}`;
}

/** Whether a session value was made with `token` and has not expired. */
export function validSession(token: string, value: string, now = Date.now()): boolean {
  const match = value.match(/^v1\.(\d{1,16})\.([A-Za-z0-9_-]{43})$/);
  if (!match) return false;
  const expiry = Number(match[1]);
  return expiry > now && sameText(match[2], mac(token, `session.${expiry}`));
}

/** A one-time login ticket, valid for {@link TICKET_TTL_MS}. */
export function newTicket(token: string, now = Date.now()): string {
  const expiry = now + TICKET_TTL_MS;
  const nonce = randomBytes(12).toString("base64url");
  return `${expiry}.${nonce}.${mac(token, `ticket.${expiry}.${nonce}`)}`;
}

/**
 * Checks a ticket and remembers its nonce, so it logs in once. Resolves with
 * the reason when it is refused.
 */
export class TicketBook {
  readonly #used = new Map<string, number>();

  /** `null` when the ticket is good (and now spent), else why not. */
  redeem(token: string, ticket: string, now = Date.now()): string | null {
    const match = ticket.match(/^(\d{1,16})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/);
    if (!match) return "the login link is malformed";
    const [, expiryText, nonce, signature] = match;
    const expiry = Number(expiryText);
    if (!sameText(signature, mac(token, `ticket.${expiry}.${nonce}`))) {
      return "the login link was not made with this server's token";
    }
    if (expiry <= now) return "the login link has expired; run `un open` again";
    for (const [seen, until] of this.#used) if (until <= now) this.#used.delete(seen);
    if (this.#used.has(nonce)) return "the login link was used already; run `un open` again";
    this.#used.set(nonce, expiry);
    return null;
  }
}
