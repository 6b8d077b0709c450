/**
 * Reading a JSON request body. The body size is already bounded by the
 * `bodyLimit` middleware; here an empty or malformed body becomes a 400 that
 * says what was wrong, never an exception from `JSON.parse` reaching the user
 * as a 500.
 */

import type { Context } from "hono";
import { ValidationError } from "../lib/errors.ts";

/**
 * Parses the request body as JSON (any content type, so `curl -d` works).
 *
 * @example
 * ```ts
 * const body = await readJson(c); // unknown: validate it next
 * ```
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
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`body is not valid JSON: ${(err as Error).message}`, {
      field: "body",
      allowed: "a JSON object",
    });
  }
}
