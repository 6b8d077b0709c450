/**
 * Pausing a queue over HTTP on a real `un start`: a paused queue (paused
 * before its first task) runs nothing for 2 s while another queue runs; the
 * pause shows in `GET /un/queues` and as a `queue.paused` event; after resume
 * it drains. A rate-limited queue shows its limit and window count.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createTask, taskState } from "./helpers/api.ts";
import { eventually } from "./helpers/eventually.ts";
import { api } from "./helpers/http.ts";
import { REPO, startUn } from "./helpers/un-process.ts";

const HANDLERS = join(REPO, "tests/fixtures/bulk-handlers.ts");

type Queues = {
  queues: Record<string, Record<string, number>>;
  control: Record<string, { paused: boolean; rateLimit?: { max: number; count: number } }>;
};

Deno.test("a paused queue runs nothing while another runs; after resume it drains", async () => {
  await using un = await startUn({
    config: {
      handlers: HANDLERS,
      workers: { concurrency: 2 },
      // A day's window: a minute's could turn over during the test and let a third run.
      queues: { slow: { rateLimit: { max: 2, perMs: 86_400_000 } } },
    },
  });
  const paused = await api<{ paused: boolean; changed: boolean }>(
    un.url,
    "POST",
    "/un/queues/held/pause",
  );
  assert.equal(paused.status, 200, JSON.stringify(paused.body));
  assert.deepEqual(paused.body, { queue: "held", paused: true, changed: true });
  const task = { type: "busy", payload: { ms: 1 } };
  const held = await Promise.all([1, 2, 3].map(() => createTask(un, { ...task, queue: "held" })));
  const free = await Promise.all([1, 2, 3].map(() => createTask(un, { ...task, queue: "free" })));
  const slow = await Promise.all([1, 2, 3].map(() => createTask(un, { ...task, queue: "slow" })));
  await eventually(
    async () => {
      const states = await Promise.all(free.map(async (t) => (await taskState(un, t.id)).state));
      return states.every((s) => s === "succeeded") || null;
    },
    { message: "the free queue ran" },
  );
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  for (const t of held) assert.equal((await taskState(un, t.id)).state, "queued");
  const view = await api<Queues>(un.url, "GET", "/un/queues");
  assert.equal(view.body.control.held.paused, true);
  assert.equal(view.body.control.slow.paused, false);
  assert.equal(view.body.control.slow.rateLimit?.max, 2);
  assert.equal(view.body.control.slow.rateLimit?.count, 2);
  const slowStates = await Promise.all(slow.map(async (t) => (await taskState(un, t.id)).state));
  assert.equal(slowStates.filter((s) => s === "queued").length, 1, slowStates.join());
  const events = await api<{ events: Array<{ type: string; subject: string }> }>(
    un.url,
    "GET",
    "/un/events/history?type=queue.*",
  );
  assert.deepEqual(events.body.events.map((e) => [e.type, e.subject]), [["queue.paused", "held"]]);

  const resumed = await api(un.url, "POST", "/un/queues/held/resume");
  assert.deepEqual(resumed.body, { queue: "held", paused: false, changed: true });
  await eventually(
    async () => {
      const states = await Promise.all(held.map(async (t) => (await taskState(un, t.id)).state));
      return states.every((s) => s === "succeeded") || null;
    },
    { message: "the resumed queue drained" },
  );
});
