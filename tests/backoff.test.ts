/**
 * Backoff: the waits after failures that an operator sees in logs and task
 * rows (task retries, reconnects, failing polls, the bridge's loops), all from
 * `lib/backoff.ts`.
 */

import assert from "node:assert/strict";
import { backoffMs, RECONNECT_BACKOFF } from "../lib/backoff.ts";
import { retryDelayMs } from "../lib/tasks/task.ts";
import { reconnectDelay } from "../lib/sources/postgres.ts";
import { backoffDelay } from "../lib/sources/poller.ts";
import { retryDelay } from "../actors/fs-scanner.ts";
import { Backoff } from "../lib/store/redis/bridge/timing.ts";

Deno.test("waits double from the base per failure and stop at the cap", () => {
  const policy = { baseMs: 100, maxMs: 1_000 };
  const waits = [1, 2, 3, 4, 5, 6].map((retry) => backoffMs(retry, policy));
  assert.deepEqual(waits, [100, 200, 400, 800, 1_000, 1_000]);
});

Deno.test("a count below one waits the base, and a source failing for days still gets a finite wait", () => {
  assert.equal(backoffMs(0, RECONNECT_BACKOFF), 250);
  assert.equal(backoffMs(-3, RECONNECT_BACKOFF), 250);
  assert.equal(backoffMs(100_000, RECONNECT_BACKOFF), 30_000);
  assert.equal(backoffMs(100_000, { baseMs: 0, maxMs: 10 }), 0);
});

Deno.test("full jitter spreads a wait over 0..cap; partial jitter keeps it near the cap", () => {
  const full = { baseMs: 1_000, maxMs: 60_000, jitter: 1 };
  assert.equal(backoffMs(3, full, () => 0), 0);
  assert.equal(backoffMs(3, full, () => 0.5), 2_000);
  assert.equal(backoffMs(3, full, () => 0.999_999), 4_000);
  const quarter = { baseMs: 100, maxMs: 5_000, jitter: 0.25 };
  assert.equal(backoffMs(2, quarter, () => 0), 150);
  assert.equal(backoffMs(2, quarter, () => 1), 200);
});

Deno.test("task retries keep the documented numbers: cap base·2^(attempt-1), full jitter, rounded", () => {
  const backoff = { baseMs: 1_000, maxMs: 300_000 };
  assert.equal(retryDelayMs(1, backoff, () => 1), 1_000);
  assert.equal(retryDelayMs(3, backoff, () => 0.5), 2_000);
  assert.equal(retryDelayMs(4, backoff, () => 0.333), 2_664);
  assert.equal(retryDelayMs(20, backoff, () => 1), 300_000);
  for (let i = 0; i < 100; i++) {
    const delay = retryDelayMs(5, backoff);
    assert.ok(delay >= 0 && delay <= 16_000, `retry 5 waits 0..16s, got ${delay}`);
  }
});

Deno.test("fs scans and PostgreSQL reconnects retry after 250 ms doubling to 30 s", () => {
  for (const delay of [retryDelay, reconnectDelay]) {
    assert.deepEqual([0, 1, 2, 3, 8, 20, 10_000].map(delay), [
      250,
      250,
      500,
      1_000,
      30_000,
      30_000,
      30_000,
    ]);
  }
});

Deno.test("a failing poll waits its interval doubled per failure, at most an hour (or the interval)", () => {
  assert.equal(backoffDelay(60_000, 0), 60_000);
  assert.equal(backoffDelay(60_000, 2), 240_000);
  assert.equal(backoffDelay(60_000, 20), 3_600_000);
  assert.equal(backoffDelay(60_000, 1_000_000), 3_600_000);
  assert.equal(backoffDelay(7_200_000, 3), 7_200_000, "an interval over an hour is its own cap");
});

Deno.test("the bridge's loops back off 100 ms up to their cap, up to 25 % early, and start over after a success", () => {
  const backoff = new Backoff(100, 1_000);
  const waits = Array.from({ length: 6 }, () => backoff.next());
  const caps = [100, 200, 400, 800, 1_000, 1_000];
  waits.forEach((wait, i) => {
    assert.ok(wait >= caps[i] * 0.75 && wait <= caps[i], `wait ${i + 1}: ${wait} of ${caps[i]}`);
  });
  assert.equal(backoff.failures, 6);
  backoff.reset();
  assert.equal(backoff.failures, 0);
  assert.ok(backoff.next() <= 100);
});
