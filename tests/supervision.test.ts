/**
 * Supervision against a real `un start`: a crashed actor is restarted and
 * `actor.restarted` is logged; past the restart limit the process exits
 * non-zero naming the actor.
 */

import assert from "node:assert/strict";
import { api } from "./helpers/http.ts";
import { startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

Deno.test("a crashed actor is restarted, and past the limit un exits non-zero naming it", async () => {
  await using un = await startUn({
    env: { UN_FAULTS: "crash" },
    config: { supervisor: { maxRestarts: 2, withinMs: 60_000 } },
  });
  for (let i = 1; i <= 2; i++) {
    const res = await api(un.url, "POST", "/un/debug/crash/scheduler");
    assert.ok(res.status < 300, `crash request accepted: ${res.status}`);
    await eventually(async () => {
      const { body } = await api<
        { events: Array<{ subject: string; data: { restarts: number } }> }
      >(
        un.url,
        "GET",
        "/un/events/history?type=actor.restarted&limit=10",
      );
      return body.events.filter((e) => e.subject === "scheduler").length === i;
    }, { timeoutMs: 5_000, message: `restart ${i} to be logged` });
    const health = await eventually(async () => {
      const { body } = await api<
        { actors: Array<{ id: string; state: string; restarts: number }> }
      >(
        un.url,
        "GET",
        "/health",
      );
      const scheduler = body.actors.find((a) => a.id === "scheduler");
      return scheduler && scheduler.state !== "restarting" ? scheduler : undefined;
    }, { timeoutMs: 5_000, message: "the scheduler to be back" });
    assert.equal(health.restarts, i);
  }
  // Work still flows after the restarts.
  const created = await api<{ task: { id: string } }>(un.url, "POST", "/un/tasks/create", {
    type: "noop",
    delayMs: 50,
  });
  await eventually(async () => {
    const { body } = await api<{ task: { state: string } }>(
      un.url,
      "GET",
      `/un/tasks/${created.body.task.id}`,
    );
    return body.task.state === "succeeded";
  }, { timeoutMs: 5_000, message: "a delayed task to run on the restarted scheduler" });

  await api(un.url, "POST", "/un/debug/crash/scheduler").catch(() => {});
  const status = await un.waitExit();
  assert.notEqual(status.code, 0);
  assert.match(un.stderrText(), /actor scheduler crashed 3 times/);
});
