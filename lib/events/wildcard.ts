/**
 * Event-type patterns: dot-separated segments where `*` matches exactly one
 * segment and `**` matches one or more (so `task.**` matches `task.queued` and
 * `task.a.b`, and `**` alone matches everything). This is the AMQP topic rule,
 * which users of Celery and RabbitMQ already know.
 *
 * Hand-written: glob libraries treat `.` as an ordinary character and `/` as the
 * separator, which is not our syntax.
 */

import { ValidationError } from "../errors.ts";

const SEGMENT = /^(?:\*\*|\*|[A-Za-z0-9_\-]+)$/;

/** A compiled pattern: call it with an event type. */
export type TypeMatcher = (type: string) => boolean;

/**
 * Checks a pattern and throws a {@link ValidationError} naming it when it is not one.
 */
export function assertPattern(pattern: string, field = "pattern"): void {
  if (typeof pattern !== "string" || pattern.length === 0 || pattern.length > 200) {
    throw new ValidationError(`${field} must be a non-empty pattern of at most 200 characters`, {
      field,
      value: pattern,
    });
  }
  for (const segment of pattern.split(".")) {
    if (!SEGMENT.test(segment)) {
      throw new ValidationError(
        `${field} "${pattern}" is not a valid pattern: segments are words, "*" (one segment) or "**" (one or more)`,
        { field, value: pattern, allowed: "e.g. file.*, task.**, github.push" },
      );
    }
  }
}

/**
 * Compiles a pattern into a matcher. Exact types compile to string equality.
 *
 * @example
 * ```ts
 * const m = compilePattern("task.**");
 * m("task.succeeded"); // true
 * m("file.created"); // false
 * ```
 */
export function compilePattern(pattern: string): TypeMatcher {
  assertPattern(pattern);
  if (!pattern.includes("*")) return (type) => type === pattern;
  if (pattern === "**") return () => true;
  const source = pattern
    .split(".")
    .map((s) => (s === "**" ? "[^.]+(?:\\.[^.]+)*" : s === "*" ? "[^.]+" : s.replace(/-/g, "\\-")))
    .join("\\.");
  const re = new RegExp(`^${source}$`);
  return (type) => re.test(type);
}
