/**
 * The inspector's view of the actors: charts generated from the machines
 * themselves, the supervision tree walked down to grandchildren (the pool's
 * workers), and contexts shown with their secrets redacted.
 */

import assert from "node:assert/strict";
import { createActor, createMachine, setup, spawnChild } from "xstate";
import { workerMachine } from "../actors/worker.ts";
import { schedulerMachine } from "../actors/scheduler.ts";
import { activePaths, leafStates, machineChart } from "../lib/inspect/actor-chart.ts";
import { actorDetail, actorTree, contextJson } from "../lib/inspect/actor-tree.ts";
import type { ActorInfo } from "../lib/control.ts";
import { Inspector } from "../lib/inspect/inspector.ts";

Deno.test("actor chart: the worker's states and transitions come from its machine", () => {
  const chart = machineChart(workerMachine)!;
  assert.equal(chart.id, "worker");
  assert.deepEqual(leafStates(chart), ["idle", "claiming", "running", "stopped"]);
  const claiming = chart.root.states.find((s) => s.key === "claiming")!;
  assert.equal(claiming.initial, true, "a worker starts by claiming");
  assert.equal(chart.root.states.find((s) => s.key === "stopped")!.type, "final");
  const toRunning = chart.root.transitions.find((t) => t.event === "loop.running")!;
  assert.deepEqual(toRunning.targets, ["running"]);
  assert.ok(chart.root.handles.includes("wake"), "events without a target are listed as handled");
  assert.equal(machineChart(workerMachine), chart, "charts are made once per machine");
  assert.equal(machineChart({ id: "callback" }), null, "not a machine: no chart");
});

Deno.test("actor chart: invoke and delay transitions get short labels", () => {
  const chart = machineChart(schedulerMachine)!;
  const labels = chart.root.states.flatMap((s) => s.transitions.map((t) => `${s.key}:${t.label}`));
  assert.ok(labels.includes("ticking:done"), labels.join(", "));
  assert.ok(labels.some((l) => l.startsWith("sleeping:after ")), labels.join(", "));
});

Deno.test("actor chart: active paths of nested and parallel values", () => {
  assert.deepEqual(activePaths("running"), ["running"]);
  assert.deepEqual(activePaths({ leading: "scanning" }), ["leading", "leading.scanning"]);
  assert.deepEqual(activePaths({ a: { b: "c" }, d: "e" }), ["a", "a.b", "a.b.c", "d", "d.e"]);
  assert.deepEqual(activePaths(undefined), []);
});

Deno.test("actor tree: the supervisor's grandchildren are listed under their parent", () => {
  const child = createMachine({
    id: "child",
    context: { token: "t0ps3cret", url: "https://h.example/x?key=k&page=2" },
    initial: "idle",
    states: { idle: { on: { go: "busy" } }, busy: {} },
  });
  const middle = setup({ actors: { child } }).createMachine({
    id: "middle",
    entry: [spawnChild("child", { id: "child-1" }), spawnChild("child", { id: "child-2" })],
  });
  const root = setup({ actors: { middle } }).createMachine({
    id: "root",
    entry: spawnChild("middle", { id: "pool" }),
  });
  const actor = createActor(root).start();
  try {
    const top: ActorInfo[] = [
      { id: "supervisor", kind: "supervisor", state: "active", restarts: 0, lastError: null },
      { id: "pool", kind: "pool", state: "active", restarts: 1, lastError: "x" },
    ];
    const notes = new Inspector(10);
    notes.noteCrash("child-2", new Error("fault injected"));
    const tree = actorTree(top, actor, notes);
    assert.deepEqual(tree.map((a) => [a.id, a.parent]), [
      ["supervisor", null],
      ["pool", "supervisor"],
      ["child-1", "pool"],
      ["child-2", "pool"],
    ]);
    const one = tree[2];
    assert.equal(one.kind, "child");
    assert.equal(one.state, "idle");
    assert.deepEqual(one.states, ["idle", "busy"]);
    assert.deepEqual(one.active, ["idle"]);
    assert.deepEqual([tree[3].restarts, tree[3].lastError], [1, "fault injected"]);
    assert.equal(tree[1].restarts, 1, "the supervisor's own count for its children");

    const detail = actorDetail(top, actor, notes, "child-1")!;
    assert.equal(detail.chart?.id, "child");
    assert.deepEqual(detail.context, {
      token: "[redacted]",
      url: "https://h.example/x?key=[redacted]&page=[redacted]",
    });
    assert.equal(actorDetail(top, actor, notes, "nobody"), null);
  } finally {
    actor.stop();
  }
});

Deno.test("actor context: secrets, plumbing, instances, cycles and sizes are made safe to show", () => {
  class Ledger {}
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const shown = contextJson({
    deps: { config: { api: { token: "never-shown" } } },
    source: {
      url: "postgres://app:pw@db:5432/main",
      headers: { "X-Api-Key": "k" },
      secret: "s",
      password: "p",
    },
    byId: new Map([["a", { apiKey: "x", n: 1 }]]),
    ids: new Set([1, 2]),
    ledger: new Ledger(),
    emit: () => {},
    at: new Date(0),
    error: new Error("GET https://h/x?token=t failed"),
    cyclic,
    long: "x".repeat(600),
    many: Array.from({ length: 60 }, (_, i) => i),
  }) as Record<string, unknown>;
  const text = JSON.stringify(shown);
  for (const secret of ["never-shown", ":pw@", '"k"', '"s"', '"p"', '"x"', "token=t "]) {
    assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  }
  assert.equal(shown.deps, "[deps]");
  assert.deepEqual(shown.source, {
    url: "postgres://app:[redacted]@db:5432/main",
    headers: { "X-Api-Key": "[redacted]" },
    secret: "[redacted]",
    password: "[redacted]",
  });
  assert.deepEqual(shown.byId, { a: { apiKey: "[redacted]", n: 1 } });
  assert.deepEqual(shown.ids, [1, 2]);
  assert.equal(shown.ledger, "[Ledger]");
  assert.equal(shown.emit, "[function]");
  assert.equal(shown.at, "1970-01-01T00:00:00.000Z");
  assert.deepEqual(shown.error, {
    name: "Error",
    message: "GET https://h/x?token=[redacted] failed",
  });
  assert.deepEqual(shown.cyclic, { name: "loop", self: "[circular]" });
  assert.equal((shown.long as string).length, 501);
  assert.equal((shown.many as unknown[]).length, 51);
  assert.equal((shown.many as unknown[])[50], "… 10 more");
});
