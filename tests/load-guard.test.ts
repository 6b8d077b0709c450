/**
 * The load guard (`workers.maxLoad`, `workers.minFreeMemoryMb`): its
 * hysteresis as a unit, and a runtime whose injected load reading stops and
 * resumes its workers' claims, with `/health`, `/metrics` and the
 * `worker.throttled`/`worker.resumed` events telling the truth meanwhile.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseConfig } from "../lib/config/load.ts";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import { silentLogger } from "../lib/log.ts";
import { LoadGuard, type LoadReading, systemLoadReading } from "../lib/tasks/load-guard.ts";
import { Runtime } from "../runtime/runtime.ts";
import { eventually } from "./helpers/eventually.ts";

/** A reading a test sets by hand. */
function manualReading(load = 0.1, freeMemoryMb = 8_192) {
  const now = { load, freeMemoryMb };
  const reading: LoadReading = {
    loadPerCore: () => now.load,
    freeMemoryMb: () => now.freeMemoryMb,
  };
  return { now, reading };
}

Deno.test("the guard trips over the load threshold and lets go only under 90 % of it", () => {
  const { now, reading } = manualReading(1.5);
  const guard = new LoadGuard({ maxLoad: 2 }, reading);
  assert.equal(guard.check(), null);
  now.load = 2.5;
  assert.deepEqual(guard.check(), {
    type: "worker.throttled",
    throttle: { reason: "load", load: 2.5, threshold: 2 },
  });
  now.load = 1.9; // under the threshold, not under 90 % of it: still throttled
  assert.equal(guard.check(), null);
  assert.equal(guard.throttle?.reason, "load");
  now.load = 1.7;
  assert.deepEqual(guard.check(), {
    type: "worker.resumed",
    after: { reason: "load", load: 2.5, threshold: 2 },
  });
  assert.equal(guard.throttle, null);
});

Deno.test("the guard trips under the free memory floor and lets go with a 10 % margin", () => {
  const { now, reading } = manualReading(0.1, 400);
  const guard = new LoadGuard({ minFreeMemoryMb: 512 }, reading);
  assert.deepEqual(guard.check(), {
    type: "worker.throttled",
    throttle: { reason: "memory", freeMemoryMb: 400, threshold: 512 },
  });
  now.freeMemoryMb = 550; // above the floor, but the floor is not under 90 % of it
  assert.equal(guard.check(), null);
  now.freeMemoryMb = 600;
  assert.equal(guard.check()?.type, "worker.resumed");
});

Deno.test("a guard without thresholds reads nothing; a reading that throws changes nothing", () => {
  let reads = 0;
  const counting: LoadReading = {
    loadPerCore: () => (reads++, 99),
    freeMemoryMb: () => (reads++, 0),
  };
  assert.equal(new LoadGuard({}, counting).check(), null);
  assert.equal(reads, 0);
  const broken: LoadReading = {
    loadPerCore: () => {
      throw new Error("no /proc");
    },
    freeMemoryMb: () => 1,
  };
  assert.equal(new LoadGuard({ maxLoad: 1 }, broken).check(), null);
});

Deno.test("the machine's own reading gives plausible figures", () => {
  const load = systemLoadReading.loadPerCore();
  const free = systemLoadReading.freeMemoryMb();
  assert.ok(Number.isFinite(load) && load >= 0, `load ${load}`);
  assert.ok(Number.isFinite(free) && free > 0, `free memory ${free} MB`);
});

Deno.test("with an injected load reading the pool stops and resumes claiming", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-load-guard-" });
  const { now, reading } = manualReading();
  const config = parseConfig({
    store: { path: join(dir, "store") },
    workers: { concurrency: 2, maxLoad: 1 },
  });
  const ran: string[] = [];
  const handlers = {
    probe: (payload: unknown) => {
      ran.push(JSON.stringify(payload));
      return null;
    },
  };
  const runtime = await Runtime.start({
    config,
    handlers,
    log: silentLogger,
    loadReading: reading,
  });
  const events: CloudEvent[] = [];
  runtime.subscribe("worker.*", (event) => events.push(event));
  try {
    runtime.send({ type: "task.enqueue", request: { type: "probe", payload: { n: 1 } } });
    await eventually(() => ran.length === 1, { message: "the first task to run" });

    now.load = 3;
    const throttled = await eventually(() => events.find((e) => e.type === "worker.throttled"), {
      message: "worker.throttled",
    });
    assert.deepEqual(throttled.data, { reason: "load", load: 3, threshold: 1 });
    const health = await runtime.health();
    assert.equal(health.status, "ok", "throttled is visible, not unhealthy");
    assert.deepEqual(health.throttled, { reason: "load", load: 3, threshold: 1 });
    assert.match(await runtime.metrics(), /^un_workers_throttled 1$/m);

    runtime.send({ type: "task.enqueue", request: { type: "probe", payload: { n: 2 } } });
    // Two guard readings and more than one idle poll of the workers: nothing is claimed.
    await new Promise((r) => setTimeout(r, 2_200));
    assert.equal(ran.length, 1, "no task is claimed while throttled");
    now.load = 0.95; // under the threshold, over 90 % of it
    await new Promise((r) => setTimeout(r, 1_200));
    assert.equal(ran.length, 1, "still throttled between 90 % and 100 % of the threshold");
    assert.equal(events.filter((e) => e.type === "worker.throttled").length, 1, "said once");

    now.load = 0.5;
    await eventually(() => ran.length === 2, { message: "the held task to run after resume" });
    const resumed = events.find((e) => e.type === "worker.resumed");
    assert.equal((resumed?.data as { reason?: string })?.reason, "load");
    assert.equal((await runtime.health()).throttled, null);
    assert.match(await runtime.metrics(), /^un_workers_throttled 0$/m);
  } finally {
    await runtime.stop("test done");
    await Deno.remove(dir, { recursive: true });
  }
});
