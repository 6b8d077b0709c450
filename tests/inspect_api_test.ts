/**
 * The development endpoints against a real `un start`: the inspector's live
 * feed of routed messages, and the crash hook (only with `UN_FAULTS=crash`)
 * whose crash the supervisor recovers from.
 */

import assert from "node:assert/strict";
import { assertError, createTask, taskState } from "./helpers/api.ts";
import { openStream, publish } from "./helpers/events.ts";
import { api, eventually } from "./helpers/http.ts";
import { startUn } from "./helpers/un_process.ts";

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

  await t.step(
    "POST /un/debug/crash/:actor crashes the actor and the supervisor restarts it",
    async () => {
      const res = await api(un.url, "POST", "/un/debug/crash/prioritizer");
      assert.equal(res.status, 202);
      await eventually(
        async () => {
          const health = await api<
            { status: string; actors: Array<{ id: string; restarts: number }> }
          >(
            un.url,
            "GET",
            "/health",
          );
          const actor = health.body.actors.find((a) => a.id === "prioritizer");
          return health.status === 200 && actor !== undefined && actor.restarts >= 1;
        },
        10_000,
        "the prioritizer to be restarted",
      );
      // It works again: a task is admitted and runs.
      const task = await createTask(un, { type: "noop" });
      await eventually(
        async () => (await taskState(un, task.id)).state === "succeeded",
        10_000,
        "task after restart",
      );
    },
  );
});

Deno.test("without UN_FAULTS there is no crash hook", async () => {
  await using un = await startUn();
  assertError(await api(un.url, "POST", "/un/debug/crash/prioritizer"), 404);
});
