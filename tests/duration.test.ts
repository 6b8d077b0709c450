/**
 * Durations as users write them in the config and the CLI, and as logs and
 * tables show them, and times as query strings and CLI flags give them.
 */

import assert from "node:assert/strict";
import { formatDuration, parseDuration, parseTimeText } from "../lib/duration.ts";

Deno.test("numbers and digit strings are milliseconds", () => {
  assert.equal(parseDuration(250), 250);
  assert.equal(parseDuration(0), 0);
  assert.equal(parseDuration("1500"), 1_500);
});

Deno.test("units ms, s, m, h and d, with fractions and spaces", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("1d"), 86_400_000);
  assert.equal(parseDuration("1.5s"), 1_500);
  assert.equal(parseDuration(" 2 m "), 120_000);
});

Deno.test("anything else is not a duration", () => {
  for (const bad of ["soon", "1 year", "-5s", "5x", "", "1.5", -1, Infinity, NaN, null, {}]) {
    assert.equal(parseDuration(bad), null, `${JSON.stringify(bad)} is not a duration`);
  }
});

Deno.test("formatted for humans in the largest unit that fits", () => {
  assert.equal(formatDuration(250), "250ms");
  assert.equal(formatDuration(1_500), "1.5s");
  assert.equal(formatDuration(42_000), "42s");
  assert.equal(formatDuration(90_000), "1.5m");
  assert.equal(formatDuration(5_400_000), "1.5h");
});

Deno.test("a time as text is epoch milliseconds or an ISO 8601 date or date-time", () => {
  assert.equal(parseTimeText("1765000000000"), 1765000000000);
  assert.equal(parseTimeText("2026-12-07"), Date.UTC(2026, 11, 7));
  assert.equal(parseTimeText("2026-12-07T09:30:00Z"), Date.UTC(2026, 11, 7, 9, 30));
  for (const bad of ["yesterday", "", "12.5", "2026-13-45", "-5"]) {
    assert.equal(parseTimeText(bad), null, bad);
  }
});
