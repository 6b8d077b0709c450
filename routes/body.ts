/**
 * Reading a JSON request body. The body size is already bounded by the
 * `bodyLimit` middleware; here an empty or malformed body becomes a 400 that
 * says what was wrong, never an exception from `JSON.parse` reaching the user
 * as a 500.
 */

import type { Context } from "hono";
import { ValidationError } from "../lib/errors.ts";

/** Deepest nesting of objects and arrays a body may have. */
export const MAX_JSON_DEPTH = 64;

/**
 * The deepest nesting of `{` and `[` in JSON text, outside strings; stops
 * counting once past the limit. Malformed text is left for `JSON.parse` to
 * name. Written by hand: a scan is a few lines, and no parser package stops
 * at a depth before it recurses.
 */
export function jsonDepth(text: string, stopAfter = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) {
      inString = true;
    } else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > deepest && (deepest = depth) > stopAfter) return deepest;
    } else if (ch === 0x7d || ch === 0x5d) {
      depth--;
    }
  }
  return deepest;
}

/**
 * Parses the request body as JSON (the browser guard already refused any
 * content type but JSON). Nesting deeper than {@link MAX_JSON_DEPTH} is a 400
 * before anything recursive (parsing, validation) sees it.
 */
export async function readJson(c: Context): Promise<unknown> {
  let text: string;
  try {
    text = await c.req.text();
  } catch (err) {
    throw new ValidationError(`could not read the request body: ${(err as Error).message}`, {
      field: "body",
    });
  }
  if (text.trim() === "") {
    throw new ValidationError("body must be a JSON object, got an empty body", { field: "body" });
  }
  const depth = jsonDepth(text);
  if (depth > MAX_JSON_DEPTH) {
    throw new ValidationError(
      `body nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays (at least ${depth})`,
      { field: "body", limit: MAX_JSON_DEPTH },
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`body is not valid JSON: ${(err as Error).message}`, {
      field: "body",
      allowed: "a JSON object",
    });
  }
}
