/**
 * Validation of what clients send (request bodies, query strings) with zod,
 * turned into one {@link ValidationError} whose message names the field, the
 * value and what is allowed, so a 400 tells the user how to fix the request.
 */

import { z } from "zod";
import { ValidationError } from "./errors.ts";

/**
 * A strict object schema: unknown keys are refused, naming them and the keys
 * that are allowed (a typo such as `priorty` must not pass silently).
 *
 * @example
 * ```ts
 * const schema = strictObject({ priority: z.number() });
 * validate(schema, { priorty: 3 }, "body"); // throws: body has unknown key(s) "priorty"; allowed: priority
 * ```
 */
export function strictObject<T extends z.core.$ZodLooseShape>(
  shape: T,
): z.ZodObject<T, z.core.$strict> {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `has unknown key(s) ${
          issue.keys.map((k) => JSON.stringify(k)).join(", ")
        }; allowed: ${allowed}`
        : issue.code === "invalid_type"
        ? "must be a JSON object"
        : undefined,
  });
}

/**
 * An integer in `min..max` whose every error says so.
 */
export function intIn(min: number, max: number): z.ZodNumber {
  const error = `must be an integer ${min}..${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/**
 * A query-string integer (`"25"`) in `min..max`.
 */
export function queryInt(
  min: number,
  max: number,
): z.ZodPipe<z.ZodString, z.ZodTransform<number, string>> {
  const error = `must be an integer ${min}..${max}`;
  return z.string().transform((value, ctx) => {
    const n = /^\d{1,16}$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: "custom", message: error });
      return z.NEVER;
    }
    return n;
  });
}

/**
 * A query-string page cursor (`cursor=…`): the `nextCursor` of an earlier
 * page, read by `decode` (null: not one the API made).
 */
export function queryCursor<T>(
  decode: (cursor: string) => T | null,
): z.ZodPipe<z.ZodString, z.ZodTransform<T, string>> {
  return z.string().transform((value, ctx) => {
    const position = decode(value);
    if (position === null) {
      ctx.addIssue({
        code: "custom",
        message: "must be the nextCursor of an earlier page, as it was given",
      });
      return z.NEVER;
    }
    return position;
  });
}

/**
 * The value at a zod issue's path in the input (what the client sent there).
 */
export function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let node = input;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** Short JSON of a value for messages: long values are cut, so an error never echoes a huge body. */
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? "undefined";
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Lines naming each problem: `priority must be an integer 0..9, got 12`.
 */
export function describeIssues(issues: z.core.$ZodIssue[], input: unknown, root: string): string[] {
  return issues.map((issue) => {
    const field = issue.path.map(String).join(".") || root;
    const got = valueAt(input, issue.path);
    if (issue.code === "unrecognized_keys") return `${field} ${issue.message}`;
    let message = issue.message;
    if (issue.code === "invalid_value" && "values" in issue) {
      message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    } else if (issue.code === "invalid_type" && got === undefined) {
      return `${field} is required (${message.replace(/^Invalid input: /, "")})`;
    } else if (message.startsWith("Invalid input: ")) {
      message = message.replace(/^Invalid input: /, "must be: ");
    }
    return `${field} ${message}, got ${show(got)}`;
  });
}

/**
 * Parses input with a schema or throws a {@link ValidationError} (400) whose
 * details carry the first problem's `field` and `value` and every `problem`.
 *
 * @example
 * ```ts
 * const { limit } = validate(z.object({ limit: queryInt(1, 1000) }), { limit: "0" }, "query");
 * // throws: limit must be an integer 1..1000, got "0"
 * ```
 */
export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
  root: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = describeIssues(result.error.issues, input, root);
  const first = result.error.issues[0];
  const field = first.path.map(String).join(".") || root;
  const details: Record<string, unknown> = { field, problems };
  const value = valueAt(input, first.path);
  // Echo the value only when it is small: an error must not mirror a huge body back.
  if (value !== undefined && first.code !== "unrecognized_keys") {
    details.value = (JSON.stringify(value) ?? "").length <= 200 ? value : show(value);
  }
  if (first.code === "unrecognized_keys") details.unknownKeys = first.keys;
  if (first.code === "invalid_value" && "values" in first) details.allowed = first.values;
  throw new ValidationError(problems.join("; "), details);
}
