/**
 * The metric parts in process: bounded labels (random event types count
 * under `other`, a hook's literal name gets its own series once the hooks
 * change, caps hold) and the fast histogram's exposition (cumulative buckets,
 * bounds inclusive, +Inf, sum and count) through a prom-client registry.
 */

import assert from "node:assert/strict";
import { Registry } from "prom-client";
import type { CompiledHook } from "../lib/hooks/mod.ts";
import { FastHistogram } from "../lib/metrics/histogram.ts";
import { BoundedLabel, EventTypeCounts, OTHER } from "../lib/metrics/labels.ts";

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
  const h = new FastHistogram(registry, "x_seconds", "A test histogram", [1, 0.1]);
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
