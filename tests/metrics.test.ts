/**
 * `GET /metrics` against a real `un start`: the exposition passes
 * `promtool check metrics` and a client library's parser; task counters and
 * histograms count every task once; random event types add one series at
 * most; the oldest queued task's age and the process metrics are there.
 *
 * promtool comes from Debian's `prometheus` package. Without it that check is
 * skipped with a printed reason, except under CI=true, where it fails.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { api } from "./helpers/http.ts";
import {
  findPromtool,
  histogramSeries,
  promtoolCheck,
  scrape,
  total,
} from "./helpers/prometheus.ts";
import { REPO, startUn, type UnProcess } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const TASKS = 1_000;
const promtool = findPromtool();
const CI = Deno.env.get("CI") === "true";
if (!promtool) {
  console.log(
    CI
      ? "metrics_test: promtool missing under CI=true: the check fails (apt-get install prometheus)"
      : "metrics_test: promtool not found (apt-get install prometheus): its check is skipped",
  );
}

async function checkWithPromtool(un: UnProcess): Promise<void> {
  assert.ok(promtool, "promtool is required under CI=true (Debian package prometheus)");
  const { text } = await scrape(un);
  assert.equal(await promtoolCheck(promtool, text), "");
}

async function promtoolRules(promtool: string, file: string): Promise<void> {
  const out = await new Deno.Command(promtool, { args: ["check", "rules", file] }).output();
  const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.ok(out.success, said);
}

/** Creates `n` tasks, `parallel` requests at a time. */
async function createMany(un: UnProcess, n: number, request: Record<string, unknown>) {
  const parallel = 20;
  for (let i = 0; i < n; i += parallel) {
    await Promise.all(
      Array.from({ length: Math.min(parallel, n - i) }, async () => {
        const res = await api(un.url, "POST", "/un/tasks/create", request);
        assert.equal(res.status, 201, JSON.stringify(res.body));
      }),
    );
  }
}

Deno.test("metrics: a thousand tasks, random event types, promtool and a parser", async (t) => {
  await using un = await startUn({
    // "parked" is served by no worker: its tasks stay queued and age.
    config: { workers: { concurrency: 8, queues: ["default"] } },
  });

  await t.step({
    name: "the exposition passes promtool check metrics",
    ignore: !promtool && !CI,
    fn: () => checkWithPromtool(un),
  });

  await t.step(`after ${TASKS} noop tasks, counters and histograms count each once`, async () => {
    await createMany(un, TASKS, { type: "noop", payload: { hi: 1 } });
    const scraped = await eventually(async () => {
      const scraped = await scrape(un);
      return total(scraped, "un_tasks_completed_total") >= TASKS ? scraped : undefined;
    }, { timeoutMs: 60_000, message: `${TASKS} completed tasks in /metrics` });
    const { families } = scraped;
    assert.equal(total(scraped, "un_tasks_completed_total"), TASKS);
    assert.equal(total(scraped, "un_task_run_seconds"), TASKS);
    assert.equal(total(scraped, "un_task_wait_seconds"), TASKS);
    const completed = families.get("un_tasks_completed_total")!;
    assert.deepEqual(completed.metrics.map((m) => m.labels), [
      { queue: "default", type: "noop", outcome: "succeeded" },
    ]);
    assert.equal(families.get("un_task_run_seconds")?.type, "HISTOGRAM");
    assert.deepEqual(histogramSeries(scraped, "un_task_run_seconds"), [
      '{queue="default",type="noop"}',
    ]);
    // The +Inf bucket holds every observation.
    assert.match(
      scraped.text,
      new RegExp(
        `^un_task_run_seconds_bucket\\{le="\\+Inf",queue="default",type="noop"\\} ${TASKS}$`,
        "m",
      ),
    );
    // The compatibility gauge and the depth gauge agree on what the store holds.
    const tasks = families.get("un_tasks")!.metrics;
    const succeeded = tasks.find((m) => m.labels?.state === "succeeded");
    assert.equal(Number(succeeded?.value), TASKS);
    const depth = families.get("un_queue_depth")!.metrics.map((m) => m.labels?.state);
    assert.ok(!depth.includes("succeeded"), "depth counts live states only");
  });

  await t.step("publishing 1000 random event types adds at most one series", async () => {
    const before = (await scrape(un)).families.get("un_events_total")!.metrics.length;
    for (let i = 0; i < 1_000; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          api(un.url, "POST", "/un/events/publish", {
            type: `app.random${crypto.randomUUID().slice(0, 8)}.e${i + j}`,
          }).then((res) => assert.equal(res.status, 202))),
      );
    }
    const events = await eventually(async () => {
      const family = (await scrape(un)).families.get("un_events_total")!;
      const other = family.metrics.find((m) => m.labels?.type === "other");
      return Number(other?.value) >= 1_000 ? family : undefined;
    }, { timeoutMs: 10_000, message: "1000 events counted under other" });
    assert.ok(events.metrics.length <= before + 1, `${before} → ${events.metrics.length}`);
  });

  await t.step("a queue no worker serves shows its oldest task's age", async () => {
    await createMany(un, 3, { type: "noop", queue: "parked" });
    await new Promise((r) => setTimeout(r, 1_100));
    const { families } = await scrape(un);
    const age = families.get("un_queue_oldest_age_seconds")!.metrics
      .find((m) => m.labels?.queue === "parked");
    assert.ok(Number(age?.value) >= 1, JSON.stringify(age));
    const queued = families.get("un_queue_depth")!.metrics
      .find((m) => m.labels?.queue === "parked" && m.labels?.state === "queued");
    assert.equal(Number(queued?.value), 3);
  });

  await t.step("process metrics, workers and health are there", async () => {
    const scraped = await scrape(un);
    const { families } = scraped;
    for (
      const name of [
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_start_time_seconds",
        "process_open_fds",
      ]
    ) {
      assert.ok(total(scraped, name) > 0, name);
    }
    assert.equal(families.get("process_cpu_seconds_total")?.type, "COUNTER");
    const start = total(scraped, "process_start_time_seconds");
    assert.ok(Math.abs(start - Date.now() / 1000) < 600, `start time ${start}`);
    assert.equal(total(scraped, "un_workers"), 8);
    assert.ok(total(scraped, "un_workers_busy") <= 8);
    assert.equal(total(scraped, "un_healthy"), 1);
    assert.equal(total(scraped, "un_up"), 1);
    assert.equal(total(scraped, "un_store_resets_total"), 0);
    assert.equal(total(scraped, "un_lease_expired_total"), 0);
  });

  await t.step("every un_* metric the docs, alerts and dashboard name is exported", async () => {
    const { families } = await scrape(un);
    for (const file of ["metrics.md", "prometheus-alerts.yml", "grafana-dashboard.json"]) {
      const text = await Deno.readTextFile(join(REPO, "docs", file));
      const named = new Set(
        [...text.matchAll(/\b(un_[a-z_]*[a-z]|process_[a-z_]*[a-z])\b(?!\*)/g)]
          .map((m) => m[1].replace(/_(bucket|sum|count)$/, "")),
      );
      for (const name of named) assert.ok(families.has(name), `${file} names ${name}`);
    }
  });

  await t.step({
    name: "the alert rules and every dashboard query pass promtool",
    ignore: !promtool && !CI,
    fn: async () => {
      assert.ok(promtool, "promtool is required under CI=true (Debian package prometheus)");
      await promtoolRules(promtool, join(REPO, "docs", "prometheus-alerts.yml"));
      // The dashboard's queries, as recording rules (Grafana's variables made concrete).
      const dashboard = JSON.parse(
        await Deno.readTextFile(join(REPO, "docs", "grafana-dashboard.json")),
      );
      const exprs: string[] = dashboard.panels.flatMap((p: { targets?: Array<{ expr: string }> }) =>
        (p.targets ?? []).map((t) => t.expr)
      );
      assert.ok(exprs.length > 10);
      const rules = exprs.map((expr, i) =>
        `      - record: dashboard:q${i}\n        expr: ${
          JSON.stringify(expr.replaceAll("$__rate_interval", "5m").replaceAll("$instance", ".*"))
        }`
      );
      const file = await Deno.makeTempFile({ suffix: ".yml" });
      try {
        await Deno.writeTextFile(
          file,
          `groups:\n  - name: dashboard\n    rules:\n${rules.join("\n")}\n`,
        );
        await promtoolRules(promtool, file);
      } finally {
        await Deno.remove(file);
      }
    },
  });

  await t.step({
    name: "the exposition still passes promtool with every series there",
    ignore: !promtool && !CI,
    fn: () => checkWithPromtool(un),
  });
});
