/**
 * Durations as users write them: a number of milliseconds, or a string such as
 * `"500ms"`, `"30s"`, `"5m"`, `"1h"`, `"1d"`.
 *
 * Hand-written: the packages that do this (ms, parse-duration) accept far more
 * (`"1 year"`, fractions of words) than our config should, and it is ten lines.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/**
 * Parses a duration into milliseconds, or returns `null` when it is not one.
 *
 * @example
 * ```ts
 * parseDuration("30s"); // 30000
 * parseDuration(250); // 250
 * parseDuration("soon"); // null
 * ```
 */
export function parseDuration(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : null;
  if (typeof value !== "string") return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const match = PATTERN.exec(trimmed);
  if (!match) return null;
  return Math.round(Number(match[1]) * UNIT_MS[match[2]]);
}

/**
 * Formats milliseconds for humans (logs, CLI tables).
 */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)}m`;
  return `${(ms / 3_600_000).toFixed(1)}h`;
}

/**
 * A time as text gives it (a query string, a CLI flag): epoch milliseconds
 * or an ISO 8601 date or date-time; null when it is neither.
 */
export function parseTimeText(value: string): number | null {
  const ms = /^\d{1,16}$/.test(value)
    ? Number(value)
    : /^\d{4}-\d\d-\d\d/.test(value)
    ? Date.parse(value)
    : NaN;
  return Number.isSafeInteger(ms) ? ms : null;
}
