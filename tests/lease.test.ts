/**
 * Fencing against a real `un start`: a task whose lease expires while its
 * handler still runs is taken over by another worker; the first worker's late
 * completion is refused and the result is the second's.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { api } from "./helpers/http.ts";
import { REPO, startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

Deno.test("an expired lease is taken over and the first worker's late result is discarded", async () => {
  await using un = await startUn({
    // no-renew: workers do not renew leases, so attempt 1 (which runs 1.2 s) loses its 300 ms lease.
    env: { UN_FAULTS: "no-renew" },
    config: {
      handlers: join(REPO, "tests/fixtures/handlers.ts"),
      workers: { concurrency: 2, leaseMs: 300 },
      scheduler: { tickMs: 20 },
    },
  });
  const created = await api<{ task: { id: string } }>(un.url, "POST", "/un/tasks/create", {
    type: "slow-once",
    payload: { firstMs: 1_200 },
  });
  const id = created.body.task.id;
  type T = {
    state: string;
    result: { attempt: number } | null;
    attempts: number;
    workerId: string;
  };
  const done = await eventually(async () => {
    const { body } = await api<{ task: T }>(un.url, "GET", `/un/tasks/${id}`);
    return body.task.state === "succeeded" ? body.task : undefined;
  }, { timeoutMs: 5_000, message: "the takeover to finish the task" });
  assert.deepEqual(done.result, { attempt: 2 });
  assert.equal(done.attempts, 2);

  // The first worker finishes at ~1.2 s; its completion must be refused.
  await eventually(() => un.stderrText().includes("late result discarded"), {
    timeoutMs: 5_000,
    message: "the late completion to be refused",
  });
  const { body } = await api<{ task: T }>(un.url, "GET", `/un/tasks/${id}`);
  assert.deepEqual(body.task.result, { attempt: 2 }, "the result stays the second worker's");
  assert.equal(body.task.state, "succeeded");
});
