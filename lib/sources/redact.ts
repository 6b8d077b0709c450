/**
 * Redaction of source definitions for everything a client or a log sees:
 * secret-named keys, header values, and in URLs the user info and query
 * values (`?api_key=…`, `postgres://user:pw@…`). Names stay, so users see
 * which keys and parameters are set; the stored spec keeps the real values.
 */

import type { Json } from "../events/cloud-event.ts";

/** What every redacted value shows. */
export const REDACTED = "[redacted]";

const SECRET_KEY = /secret|token|password|passwd|apikey|api_key/i;
const URL_START = /^[a-z][a-z0-9+.\-]*:\/\//i;
/** URLs inside free text (error messages); stops at characters that end one in prose. */
const URL_IN_TEXT = /[a-z][a-z0-9+.\-]*:\/\/[^\s"'<>()]+/gi;

/**
 * A URL with its user info and query values replaced: a password keeps its
 * user name (`user:[redacted]@`), a bare user info (often a token) goes whole,
 * each query parameter keeps its name (`?api_key=[redacted]`). Anything that
 * does not start with `scheme://` comes back unchanged.
 *
 * @example
 * ```ts
 * redactUrl("https://feed.example/rss?api_key=abc&page=2");
 * // "https://feed.example/rss?api_key=[redacted]&page=[redacted]"
 * redactUrl("postgres://app:pw@db:5432/main"); // "postgres://app:[redacted]@db:5432/main"
 * ```
 */
export function redactUrl(url: string): string {
  const scheme = URL_START.exec(url);
  if (!scheme) return url;
  let rest = url.slice(scheme[0].length);
  const authorityEnd = rest.search(/[/?#]/);
  let authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  rest = authorityEnd < 0 ? "" : rest.slice(authorityEnd);
  const at = authority.lastIndexOf("@");
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(":");
    const kept = colon >= 0 ? `${userinfo.slice(0, colon)}:${REDACTED}` : REDACTED;
    authority = `${kept}${authority.slice(at)}`;
  }
  const queryStart = rest.indexOf("?");
  if (queryStart >= 0) {
    const hash = rest.indexOf("#", queryStart);
    const queryEnd = hash < 0 ? rest.length : hash;
    const query = rest.slice(queryStart + 1, queryEnd).split("&").map((pair) => {
      const eq = pair.indexOf("=");
      if (eq < 0) return pair ? REDACTED : pair;
      return eq === pair.length - 1 ? pair : `${pair.slice(0, eq)}=${REDACTED}`;
    }).join("&");
    rest = `${rest.slice(0, queryStart)}?${query}${rest.slice(queryEnd)}`;
  }
  return `${scheme[0]}${authority}${rest}`;
}

/**
 * Free text (an error message, a status line) with every URL in it redacted.
 */
export function redactText(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => redactUrl(url));
}

/**
 * A JSON value with every string in it passed through {@link redactText}
 * (a source's status, whose `lastError` may quote a URL).
 */
export function redactTexts(value: Json): Json {
  if (typeof value === "string") return redactText(value);
  if (Array.isArray(value)) return value.map(redactTexts);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactTexts(v)]));
  }
  return value;
}

/**
 * Replaces secret values (webhook secrets, tokens, passwords and query values
 * in URLs, header values) and keeps the shape, so users see which keys are
 * set without being able to copy credentials out of a listing or an event.
 *
 * @example
 * ```ts
 * redactSpec({ repo: "o/r", secret: "s3cret" }); // { repo: "o/r", secret: "[redacted]" }
 * redactSpec({ url: "https://f.example/rss?key=k" }); // { url: "https://f.example/rss?key=[redacted]" }
 * ```
 */
export function redactSpec(value: Json, key = ""): Json {
  if (SECRET_KEY.test(key) && value !== null) return REDACTED;
  if (key === "headers" && value !== null && typeof value === "object" && !Array.isArray(value)) {
    return Object.fromEntries(Object.keys(value).map((k) => [k, REDACTED]));
  }
  if (typeof value === "string") return redactUrl(value);
  if (Array.isArray(value)) return value.map((v) => redactSpec(v));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactSpec(v, k)]));
  }
  return value;
}
