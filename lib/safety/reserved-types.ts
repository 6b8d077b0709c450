/**
 * Event types that sources and the runtime produce. They cannot be published
 * over the API: a caller could otherwise fire hooks meant for a source (a
 * forged `github.push` skips the webhook's signature check) or fake a task's
 * outcome.
 */

import { ValidationError } from "../errors.ts";

/** The reserved prefixes, each ending in a dot. */
export const RESERVED_EVENT_PREFIXES: readonly string[] = [
  "file.",
  "feed.",
  "github.",
  "http.",
  "db.",
  "source.",
  "task.",
  "actor.",
  "worker.",
  "schedule.",
  "scan.",
  "queue.",
  "hook.",
  "batch.",
  "store.",
  "subscription.",
];

/** The reserved prefix `type` starts with, or null. */
export function reservedPrefix(type: string): string | null {
  const lower = type.toLowerCase();
  return RESERVED_EVENT_PREFIXES.find((prefix) => lower.startsWith(prefix)) ?? null;
}

/** Throws a 400 naming the prefix when `type` is reserved. */
export function assertPublishable(type: string, field = "type"): void {
  const prefix = reservedPrefix(type);
  if (prefix === null) return;
  throw new ValidationError(
    `${field} "${type}" is reserved: events of "${prefix}*" come from un's sources and runtime ` +
      `and cannot be published over the API; use your own prefix, such as "app.${type}"`,
    { field, value: type, reserved: RESERVED_EVENT_PREFIXES.map((p) => `${p}*`) },
  );
}
