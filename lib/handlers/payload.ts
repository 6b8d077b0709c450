/**
 * Payload validation for the built-in handlers. A payload that does not fit will
 * not fit on the next attempt either, so it fails the task permanently, with a
 * message naming the field, what is allowed and the value given.
 */

import type { z } from "zod";
import { formatIssues } from "../config/load.ts";
import { PermanentError } from "../errors.ts";

/**
 * Parses a task payload with a zod schema, or throws a {@link PermanentError}
 * such as `sleep: payload.ms must be a number 0..86400000, got -1`.
 */
export function parsePayload<S extends z.ZodType>(
  taskType: string,
  schema: S,
  payload: unknown,
): z.output<S> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const problems = formatIssues(result.error.issues, payload, "payload", schema);
  throw new PermanentError(`${taskType}: ${problems.join("; ")}`);
}
