/**
 * The one error shape of the API, `{ "error": { "code", "message", "details" } }`,
 * and the mapping of anything thrown in a route to it: a {@link UnError} keeps
 * its status, Hono's own HTTP errors keep theirs, anything else is a 500 that
 * is logged and never crashes the process.
 */

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type ErrorDetails, QueueFullError, UnError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";

/**
 * The JSON body of every error answer.
 */
export interface ErrorBody {
  error: { code: string; message: string; details: ErrorDetails };
}

/**
 * Builds an error body.
 */
export function errorBody(code: string, message: string, details: ErrorDetails = {}): ErrorBody {
  return { error: { code, message, details } };
}

/**
 * Answers with an error body and status.
 */
export function errorResponse(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  details: ErrorDetails = {},
): Response {
  return c.json(errorBody(code, message, details), status);
}

const STATUS_CODES: Record<number, string> = {
  400: "invalid_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  413: "body_too_large",
  503: "unavailable",
};

/**
 * The answer for anything a route threw (Hono `onError`).
 */
export function errorFromThrown(err: unknown, c: Context, log: Logger): Response {
  if (err instanceof UnError) {
    // A full queue says when to try again (RFC 9110 Retry-After, in seconds).
    if (err instanceof QueueFullError) c.header("Retry-After", String(err.retryAfterS));
    return c.json(err.toJSON(), err.status as ContentfulStatusCode);
  }
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    return errorResponse(
      c,
      status,
      STATUS_CODES[status] ?? "http_error",
      err.message || `HTTP ${status}`,
    );
  }
  log.error("request failed", {
    method: c.req.method,
    path: c.req.path,
    error: err instanceof Error ? (err.stack ?? err.message) : String(err),
  });
  return errorResponse(
    c,
    500,
    "internal",
    "internal error while handling the request; see the un log",
    {
      method: c.req.method,
      path: c.req.path,
    },
  );
}
