/**
 * The metric parts in process: bounded labels (random event types count
 * under `other`, a hook's literal name gets its own series once the hooks
 * change, caps hold) and the fast histogram's exposition (cumulative buckets,
 * bounds inclusive, +Inf, sum and count) through a prom-client registry; the
 * task metrics as scraped (outcomes by queue, type and outcome, types without
 * a handler and queues past the cap under `other`, run and wait times in
 * seconds in their buckets, leases that ran out).
 */

import assert from "node:assert/strict";
import * as prom from "prom-client";
import { Registry } from "prom-client";
import { createEvent, type Json } from "../lib/events/cloud-event.ts";
import type { CompiledHook } from "../lib/hooks/mod.ts";
import { FastHistogram } from "../lib/metrics/histogram.ts";
import { BoundedLabel, EventTypeCounts, OTHER } from "../lib/metrics/labels.ts";
import { TaskMetrics } from "../lib/metrics/tasks.ts";

function hook(on: string): CompiledHook {
  return { spec: { on, task: "noop" }, matches: () => true, source: null } as CompiledHook;
}

Deno.test("event types: un's own and hooks' literal names get series, the rest is other", () => {
  let hooks: CompiledHook[] = [hook("deploy.done"), hook("app.*")];
  const counts = new EventTypeCounts(() => hooks, 3);
  counts.count("task.succeeded");
  counts.count("task.succeeded");
  counts.count("deploy.done");
  for (let i = 0; i < 1_000; i++) counts.count(`app.random${i}`);
  counts.count("later.named");
  assert.deepEqual(
    [...counts.counts()],
    [["task.succeeded", 2], ["deploy.done", 1], [OTHER, 1_001]],
  );
  // A hook added later names a type that was other: its next events get their own series.
  hooks = [...hooks, hook("later.named")];
  counts.count("later.named");
  // The cap (3 here) holds: a fourth un type is other too.
  counts.count("file.created");
  assert.deepEqual(
    [...counts.counts()],
    [["task.succeeded", 2], ["deploy.done", 1], ["later.named", 1], [OTHER, 1_002]],
  );
});

Deno.test("bounded labels: admitted values up to the cap, the rest other", () => {
  const label = new BoundedLabel(2, (v) => v !== "secret");
  assert.equal(label.of("a"), "a");
  assert.equal(label.of("secret"), OTHER);
  assert.equal(label.of("b"), "b");
  assert.equal(label.of("c"), OTHER);
  assert.equal(label.of("a"), "a");
  assert.equal(label.of(42), OTHER);
});

Deno.test("fast histogram: cumulative buckets with inclusive bounds, +Inf, sum and count", async () => {
  const registry = new Registry();
  const h = new FastHistogram("x_seconds", "A test histogram", [1, 0.1]);
  h.register(registry);
  const series = h.series({ queue: 'q"1' });
  assert.equal(h.series({ queue: 'q"1' }), series, "one series per label set");
  for (const v of [0.05, 0.1, 0.5, 1, 7]) h.observe(series, v);
  const text = await registry.metrics();
  assert.equal(
    text,
    [
      "# HELP x_seconds A test histogram",
      "# TYPE x_seconds histogram",
      'x_seconds_bucket{le="0.1",queue="q\\"1"} 2',
      'x_seconds_bucket{le="1",queue="q\\"1"} 4',
      'x_seconds_bucket{le="+Inf",queue="q\\"1"} 5',
      'x_seconds_sum{queue="q\\"1"} 8.65',
      'x_seconds_count{queue="q\\"1"} 5',
      "",
    ].join("\n"),
  );
});

/** The samples of `name` in an exposition, each as its labels and value. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out = [];
  for (
    const [, labels = "", value] of text.matchAll(
      new RegExp(`^${name}(?:\\{(.*)\\})? (\\S+)$`, "gm"),
    )
  ) {
    const pairs = [...labels.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => [k, v]);
    out.push({ labels: Object.fromEntries(pairs), value: Number(value) });
  }
  return out;
}

/** The value of the sample of `name` with exactly these labels (undefined: no such series). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const key = JSON.stringify(Object.entries(labels).sort());
  return samples(text, name).find((s) => JSON.stringify(Object.entries(s.labels).sort()) === key)
    ?.value;
}

function taskMetrics() {
  const registry = new Registry();
  const metrics = new TaskMetrics((type) => type === "noop" || type === "mail.send");
  metrics.register(registry, prom);
  const task = (type: string, data: Record<string, unknown>) =>
    metrics.observe(createEvent({ type, source: "/un/tasks", data: data as Json }));
  return { registry, metrics, task };
}

Deno.test("task metrics: outcomes by queue, type and outcome; unknown task types under other", async () => {
  const { registry, task } = taskMetrics();
  task("task.succeeded", { queue: "default", type: "noop" });
  task("task.succeeded", { queue: "default", type: "noop" });
  task("task.retrying", { queue: "default", type: "noop" });
  task("task.dead", { queue: "mail", type: "mail.send" });
  task("task.succeeded", { queue: "default", type: "made.up" });
  task("task.progress", { queue: "default", type: "noop" }); // not an outcome
  task("file.created", { queue: "default", type: "noop" }); // not a task event
  const text = await registry.metrics();
  const completed = (queue: string, type: string, outcome: string) =>
    sample(text, "un_tasks_completed_total", { queue, type, outcome });
  assert.equal(completed("default", "noop", "succeeded"), 2);
  assert.equal(completed("default", "noop", "retried"), 1);
  assert.equal(completed("mail", "mail.send", "dead"), 1);
  assert.equal(completed("default", "other", "succeeded"), 1, "a type no handler has");
  assert.equal(samples(text, "un_tasks_completed_total").length, 4);
});

Deno.test("task metrics: run and wait times land in their buckets, in seconds", async () => {
  const { registry, task } = taskMetrics();
  const noop = { queue: "default", type: "noop" };
  task("task.succeeded", { ...noop, durationMs: 3 });
  task("task.failed", { ...noop, durationMs: 1_000 }); // on a bound: counted in it
  task("task.succeeded", { ...noop, durationMs: -5 }); // a clock step back: 0
  task("task.started", { ...noop, waitMs: 1_500 });
  const text = await registry.metrics();
  const run = (le: string) => sample(text, "un_task_run_seconds_bucket", { ...noop, le });
  assert.deepEqual([run("0.001"), run("0.005"), run("0.5"), run("1"), run("+Inf")], [
    1,
    2,
    2,
    3,
    3,
  ]);
  assert.equal(sample(text, "un_task_run_seconds_sum", noop), 1.003);
  assert.equal(sample(text, "un_task_run_seconds_count", noop), 3);
  const wait = (le: string) => sample(text, "un_task_wait_seconds_bucket", { ...noop, le });
  assert.deepEqual([wait("1"), wait("5")], [0, 1]);
  assert.equal(sample(text, "un_task_wait_seconds_count", noop), 1);
});

Deno.test("task metrics: past 100 queues the rest count under other", async () => {
  const { registry, task } = taskMetrics();
  for (let i = 0; i < 150; i++) task("task.succeeded", { queue: `q${i}`, type: "noop" });
  const text = await registry.metrics();
  const queues = new Set(samples(text, "un_tasks_completed_total").map((s) => s.labels.queue));
  assert.equal(queues.size, 101);
  assert.equal(
    sample(text, "un_tasks_completed_total", { queue: "q99", type: "noop", outcome: "succeeded" }),
    1,
  );
  assert.equal(
    sample(text, "un_tasks_completed_total", { queue: OTHER, type: "noop", outcome: "succeeded" }),
    50,
  );
});

Deno.test("task metrics: leases that ran out on a running task, from events and from start-up", async () => {
  const { registry, metrics, task } = taskMetrics();
  task("task.queued", { queue: "default", type: "noop", reason: "stalled", from: "running" });
  task("task.dead", { queue: "default", type: "noop", reason: "stalled", from: "running" });
  task("task.queued", { queue: "default", type: "noop", reason: "stalled", from: "queued" });
  task("task.queued", { queue: "default", type: "noop", reason: "due", from: "scheduled" });
  metrics.leaseExpired(2);
  metrics.leaseExpired(0);
  assert.equal(sample(await registry.metrics(), "un_lease_expired_total", {}), 4);
});
