/**
 * The development endpoints against a real `un start`: the inspector's live
 * feed of routed messages, and the crash hook (only with `UN_FAULTS=crash`)
 * whose crash the supervisor recovers from.
 */

import assert from "node:assert/strict";
import type { ActorDetail, ActorInfo } from "../lib/control.ts";
import { assertError, createTask, taskState } from "./helpers/api.ts";
import { openStream, publish } from "./helpers/events.ts";
import { api } from "./helpers/http.ts";
import { startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

Deno.test("the inspector streams routed messages; the crash hook exists only with UN_FAULTS=crash", async (t) => {
  await using un = await startUn({ env: { UN_FAULTS: "crash" } });

  await t.step("GET /un/inspect/stream shows the messages a publish causes", async () => {
    const stream = await openStream(`${un.url}/un/inspect/stream`);
    try {
      await publish(un, "inspect.me");
      const deadline = Date.now() + 10_000;
      let found = false;
      while (!found && Date.now() < deadline) {
        const [message] = await stream.take(1);
        const record = JSON.parse(message.data) as { type: string; summary?: string };
        found = record.type === "event.publish" && record.summary === "inspect.me";
      }
      assert.ok(found, "no event.publish record for inspect.me");
    } finally {
      await stream.close();
    }
  });

  await t.step("GET /un/inspect/actors lists every worker, under the pool", async () => {
    const res = await api<{ actors: ActorInfo[] }>(un.url, "GET", "/un/inspect/actors");
    assert.equal(res.status, 200);
    const byId = new Map(res.body.actors.map((a) => [a.id, a]));
    for (const id of ["supervisor", "prioritizer", "scheduler", "pool"]) {
      assert.ok(byId.has(id), id);
    }
    assert.equal(byId.get("pool")?.parent, "supervisor");
    for (let i = 1; i <= 4; i++) {
      const worker = byId.get(`worker-${i}`);
      assert.equal(worker?.parent, "pool", `worker-${i}`);
      assert.equal(worker?.machine, "worker");
      assert.deepEqual(worker?.states, ["idle", "claiming", "running", "stopped"]);
      assert.ok(worker?.active?.length === 1 && worker.states.includes(worker.active[0]));
    }
  });

  await t.step("GET /un/inspect/actors/:id gives the chart and the context", async () => {
    const res = await api<ActorDetail>(un.url, "GET", "/un/inspect/actors/worker-2");
    assert.equal(res.status, 200);
    assert.equal(res.body.actor.id, "worker-2");
    assert.equal(res.body.chart?.id, "worker");
    assert.equal((res.body.context as { id: string }).id, "worker-2");
    assertError(await api(un.url, "GET", "/un/inspect/actors/nobody"), 404);
    const page = await fetch(`${un.url}/un/inspect`, { redirect: "manual" });
    await page.body?.cancel();
    assert.equal(page.status, 302);
    assert.equal(page.headers.get("location"), "/un/ui/actors");
  });

  await t.step(
    "POST /un/debug/crash/:actor crashes the actor and the supervisor restarts it",
    async () => {
      const res = await api(un.url, "POST", "/un/debug/crash/prioritizer");
      assert.equal(res.status, 202);
      await eventually(async () => {
        const health = await api<
          { status: string; actors: Array<{ id: string; restarts: number }> }
        >(
          un.url,
          "GET",
          "/health",
        );
        const actor = health.body.actors.find((a) => a.id === "prioritizer");
        return health.status === 200 && actor !== undefined && actor.restarts >= 1;
      }, { timeoutMs: 10_000, message: "the prioritizer to be restarted" });
      // It works again: a task is admitted and runs.
      const task = await createTask(un, { type: "noop" });
      await eventually(async () => (await taskState(un, task.id)).state === "succeeded", {
        timeoutMs: 10_000,
        message: "task after restart",
      });
    },
  );
});

Deno.test("without UN_FAULTS there is no crash hook", async () => {
  await using un = await startUn();
  assertError(await api(un.url, "POST", "/un/debug/crash/prioritizer"), 404);
});

Deno.test("actor contexts never show the token, a secret or a URL's query values", async () => {
  const token = "inspect-test-token-0123456789";
  const auth = { authorization: `Bearer ${token}` };
  await using un = await startUn({
    config: {
      api: { token },
      sources: [{
        id: "feed",
        kind: "feed",
        url: "http://127.0.0.1:9/rss?api_key=k3y",
        interval: "1h",
      }],
    },
  });
  const { body } = await api<{ actors: ActorInfo[] }>(
    un.url,
    "GET",
    "/un/inspect/actors",
    undefined,
    auth,
  );
  for (const { id } of body.actors) {
    const res = await api(
      un.url,
      "GET",
      `/un/inspect/actors/${encodeURIComponent(id)}`,
      undefined,
      auth,
    );
    assert.equal(res.status, 200, id);
    const text = JSON.stringify(res.body);
    assert.ok(!text.includes(token), `${id} shows the token`);
    assert.ok(!text.includes("k3y"), `${id} shows the feed's query value`);
  }
  assert.ok(body.actors.some((a) => a.id === "source:feed"), "the feed's scanner is listed");
});
