/**
 * The metrics that follow what happens, against a real `un start` with
 * faults injected: an actor's crash counts in `un_actor_restarts_total`, a
 * lease that runs out in `un_lease_expired_total`, failed attempts as
 * `retried` then `dead` with their run times, a cancel as `cancelled`, and a
 * feed that cannot be reached in the source failure metrics and in
 * `un_source_scan_seconds`, polled and scanned on request.
 */

import assert from "node:assert/strict";
import { api, closedPort } from "./helpers/http.ts";
import { histogramSeries, type Scrape, scrape, total } from "./helpers/prometheus.ts";
import { startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

/** The value of one series, by its labels (exactly). */
function value(scraped: Scrape, name: string, labels: Record<string, string>): number {
  const family = scraped.families.get(name);
  assert.ok(family, `no metric ${name}`);
  const series = family.metrics.find((m) =>
    JSON.stringify(m.labels ?? {}) === JSON.stringify(labels)
  );
  return series ? Number(series.value) : NaN;
}

Deno.test("metrics follow crashes, stalled leases, failures, cancels and sources", async (t) => {
  await using un = await startUn({
    // no-renew: a running task's lease runs out; crash: POST /un/debug/crash/:actor.
    env: { UN_FAULTS: "crash,no-renew" },
    config: {
      workers: { concurrency: 2, leaseMs: 300, backoffBaseMs: 50, backoffMaxMs: 100 },
      scheduler: { tickMs: 20 },
      sources: [{ id: "down", kind: "feed", url: `http://127.0.0.1:${closedPort()}/feed` }],
    },
  });

  await t.step("a crashed actor counts in un_actor_restarts_total", async () => {
    const res = await api(un.url, "POST", "/un/debug/crash/scheduler");
    assert.ok(res.status < 300, `crash accepted: ${res.status}`);
    await eventually(
      async () => value(await scrape(un), "un_actor_restarts_total", { actor: "scheduler" }) === 1,
      { timeoutMs: 5_000, message: "the restart to be counted" },
    );
  });

  await t.step("a lease that runs out counts once, and the task ends dead", async () => {
    const created = await api(un.url, "POST", "/un/tasks/create", {
      type: "sleep",
      queue: "stall",
      payload: { ms: 1_500 },
      maxAttempts: 1,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const scraped = await eventually(async () => {
      const scraped = await scrape(un);
      return total(scraped, "un_lease_expired_total") >= 1 ? scraped : undefined;
    }, { timeoutMs: 10_000, message: "the lease expiry to be counted" });
    assert.equal(total(scraped, "un_lease_expired_total"), 1);
    const labels = { queue: "stall", type: "sleep", outcome: "dead" };
    await eventually(
      async () => value(await scrape(un), "un_tasks_completed_total", labels) === 1,
      { timeoutMs: 5_000, message: "the stalled task counted dead" },
    );
  });

  await t.step("failed attempts count as retried then dead, each with its run time", async () => {
    const created = await api(un.url, "POST", "/un/tasks/create", {
      type: "sleep",
      queue: "fail",
      payload: { ms: 5_000 },
      timeoutMs: 50,
      maxAttempts: 2,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const scraped = await eventually(async () => {
      const scraped = await scrape(un);
      const dead = value(scraped, "un_tasks_completed_total", {
        queue: "fail",
        type: "sleep",
        outcome: "dead",
      });
      return dead === 1 ? scraped : undefined;
    }, { timeoutMs: 10_000, message: "the failing task to end dead" });
    assert.equal(
      value(scraped, "un_tasks_completed_total", {
        queue: "fail",
        type: "sleep",
        outcome: "retried",
      }),
      1,
    );
    const count = new RegExp(
      `^un_task_run_seconds_count\\{queue="fail",type="sleep"\\} (\\d+)$`,
      "m",
    );
    assert.equal(count.exec(scraped.text)?.[1], "2", "both attempts' run times");
    assert.ok(
      histogramSeries(scraped, "un_task_wait_seconds").includes('{queue="fail",type="sleep"}'),
    );
  });

  await t.step("a cancel counts as cancelled", async () => {
    const created = await api<{ task: { id: string } }>(un.url, "POST", "/un/tasks/create", {
      type: "noop",
      queue: "later",
      delayMs: 60_000,
    });
    assert.equal(created.status, 201);
    const cancelled = await api(un.url, "DELETE", `/un/tasks/${created.body.task.id}`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    await eventually(async () =>
      value(await scrape(un), "un_tasks_completed_total", {
        queue: "later",
        type: "noop",
        outcome: "cancelled",
      }) === 1, { timeoutMs: 5_000, message: "the cancel to be counted" });
  });

  await t.step("a failing source shows in its failure metrics and scan durations", async () => {
    const scraped = await eventually(async () => {
      const scraped = await scrape(un);
      return value(scraped, "un_source_consecutive_failures", { source: "down" }) >= 1
        ? scraped
        : undefined;
    }, { timeoutMs: 10_000, message: "the source's failures in /metrics" });
    assert.ok(value(scraped, "un_source_failures_total", { source: "down" }) >= 1);
    const lastScan = value(scraped, "un_source_last_scan_timestamp_seconds", { source: "down" });
    assert.ok(Math.abs(lastScan - Date.now() / 1000) < 60, `last scan ${lastScan}`);

    // The periodic polls count too (tests/metrics-scans.test.ts); the requested scan adds one.
    const scans = (text: string) =>
      Number(/^un_source_scan_seconds_count\{source="down"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    const before = scans(scraped.text);
    assert.ok(before >= 1, "the failed periodic poll counts");
    await api(un.url, "POST", "/un/sources/down/scan");
    await eventually(async () => scans((await scrape(un)).text) >= before + 1, {
      timeoutMs: 10_000,
      message: "the requested scan's duration",
    });
  });
});
