/**
 * The `http` built-in: delivers one request (a webhook, an API call) to a
 * host `http.allow` covers, following redirects itself so every hop is
 * checked, and signed (`X-Un-Signature`) only to `http.signTo` hosts.
 * Statuses that a retry can change (408, 429, 5xx, network errors, timeouts)
 * fail the attempt; other 4xx and refused hosts fail the task for good, since
 * sending the same request again gets the same answer.
 */

import { z } from "zod";
import type { Config } from "../config/load.ts";
import { PermanentError } from "../errors.ts";
import { isSignTarget } from "../safety/outbound.ts";
import { OutboundRefusal, type OutboundRequest, safeFetch, where } from "../safety/safe-fetch.ts";
import { SIGNATURE_HEADER, signRequest } from "../safety/signature.ts";
import { subscriptionSecret } from "../subscriptions/secrets.ts";
import { webhookHeaders } from "../subscriptions/signature.ts";
import { captureText } from "./capture.ts";
import { parsePayload } from "./payload.ts";
import type { Handler } from "./types.ts";

/** Response headers kept in the result: enough to follow up, not the whole set. */
const KEPT_HEADERS = [
  "content-type",
  "content-length",
  "location",
  "etag",
  "last-modified",
  "retry-after",
] as const;

/** Status codes a later attempt can change although they are 4xx. */
const RETRYABLE_4XX = new Set([408, 429]);

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;

/** The payload schema of `http` (checked at create and again at run time). */
export const httpPayload = z.object({
  url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
  method: z.enum(METHODS).optional(),
  headers: z.record(z.string(), z.string(), { error: "must be an object of string values" })
    .default({}),
  body: z.json().optional(),
  /** Signs each attempt Standard-Webhooks style with the subscription's secret (lib/subscriptions). */
  webhook: z.object({ id: z.string().min(1), subscription: z.string().min(1) }).optional(),
});

/** Payload of `http`. `method` defaults to POST with a body, GET without. */
export type HttpPayload = z.input<typeof httpPayload>;

/** Result of `http` (a type alias, so it is assignable to `Json`). */
export type HttpResult = {
  status: number;
  /** A few response headers (content-type, content-length, location, etag, last-modified, retry-after). */
  headers: Record<string, string>;
  /** The first 64 KiB of the response body, as text. */
  body: string;
  /** Present when the body was longer than 64 KiB. */
  truncated?: true;
};

/**
 * Makes the `http` handler.
 */
export function httpHandler(config: Config): Handler<unknown, HttpResult> {
  return async (task, ctx) => {
    const payload = parsePayload("http", httpPayload, task.payload);
    const method: string = payload.method ?? (payload.body === undefined ? "GET" : "POST");
    if (payload.body !== undefined && (method === "GET" || method === "HEAD")) {
      throw new PermanentError(`http: payload.body is not allowed with method ${method}`);
    }
    const url = new URL(payload.url);
    const target = describe(method, url);
    const body = payload.body === undefined ? undefined : JSON.stringify(payload.body);
    const headers = new Headers(payload.headers);
    if (body && !headers.has("content-type")) headers.set("content-type", "application/json");
    if (!headers.has("user-agent")) headers.set("user-agent", "un");
    // Set after the payload's headers, so a payload cannot forge them.
    headers.set("x-un-task-id", task.id);
    headers.set("x-un-attempt", String(ctx.attempt));
    headers.delete(SIGNATURE_HEADER);
    if (payload.webhook) {
      const signed = webhookHeaders(
        await secretOf(payload.webhook.subscription),
        payload.webhook.id,
        body ?? "",
      );
      for (const [name, value] of Object.entries(signed)) headers.set(name, value);
    }

    ctx.signal.throwIfAborted();
    const stop = new AbortController();
    const onTaskAbort = () => stop.abort(ctx.signal.reason);
    ctx.signal.addEventListener("abort", onTaskAbort, { once: true });
    const timeoutMs = config.http.timeoutMs;
    const timer = setTimeout(
      () => stop.abort(new Error(`http: ${target} timed out after ${timeoutMs}ms`)),
      timeoutMs,
    );
    let response: Response;
    let text: { text: string; truncated: boolean };
    try {
      response = await send(url, { method, headers, body }, config, stop.signal, target);
      text = response.body
        ? await captureText(response.body, { drain: false })
        : { text: "", truncated: false };
    } catch (err) {
      // Cancel, task timeout or our own timeout: say which, not "signal is aborted".
      if (stop.signal.aborted) throw stop.signal.reason;
      throw err;
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", onTaskAbort);
    }

    const status = response.status;
    if (status >= 500 || RETRYABLE_4XX.has(status)) {
      throw new Error(`http: ${target} answered ${status}${snippet(text.text)}`);
    }
    if (status >= 400) {
      throw new PermanentError(`http: ${target} answered ${status}${snippet(text.text)}`);
    }
    const kept: Record<string, string> = {};
    for (const name of KEPT_HEADERS) {
      const value = response.headers.get(name);
      if (value !== null) kept[name] = value;
    }
    const result: HttpResult = { status, headers: kept, body: text.text };
    if (text.truncated) result.truncated = true;
    return result;
  };
}

/** Method, origin and path: query strings and user info often hold tokens, so messages leave them out. */
function describe(method: string, url: URL): string {
  return `${method} ${where(url)}`;
}

/**
 * The request, its hops checked against `http.allow` (tasks made by hooks and
 * schedules never passed the API's check: this is their only one) and signed
 * afresh for each `http.signTo` host. A refused host fails the task for good,
 * unless its name did not resolve (it may later); a network failure is
 * retryable and named by target.
 */
async function send(
  url: URL,
  request: OutboundRequest,
  config: Config,
  signal: AbortSignal,
  target: string,
): Promise<Response> {
  const secret = config.http.signingSecret;
  const sign = (to: URL, hop: OutboundRequest) => {
    if (secret && isSignTarget(to.href, config.http.signTo)) {
      const signed = { method: hop.method, url: to.href, body: hop.body ?? "" };
      hop.headers.set(SIGNATURE_HEADER, signRequest(secret, signed));
    } else {
      hop.headers.delete(SIGNATURE_HEADER);
    }
  };
  try {
    return await safeFetch(url, request, {
      allow: config.http.allow,
      field: "payload.url",
      signal,
      beforeSend: sign,
    });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (err instanceof OutboundRefusal) {
      const message = `http: ${target}: ${err.message}`;
      throw err.permanent ? new PermanentError(message) : new Error(message);
    }
    throw new Error(`http: ${target} failed: ${(err as Error).message}`, { cause: err });
  }
}

/** A subscription's signing secret, or why the delivery cannot be signed (for good). */
async function secretOf(subscription: string): Promise<string> {
  const found = subscriptionSecret(subscription);
  if (found === undefined) {
    throw new PermanentError(
      `http: cannot sign for subscription ${subscription}: no subscription store here ` +
        "(an isolated worker); do not isolate http tasks that deliver webhooks",
    );
  }
  const secret = await found;
  if (secret === null) {
    throw new PermanentError(`http: subscription ${subscription} no longer exists`);
  }
  return secret;
}

/** The start of a response body for an error message. */
function snippet(text: string): string {
  const line = text.replace(/\s+/g, " ").trim().slice(0, 300);
  return line ? `: ${line}` : "";
}
