/**
 * The embedded store's claims and the successes of what it claimed
 * (lib/store/sqlite/claims.ts): the successes of one burst are one UPDATE by
 * rowid, and one whose task is no longer its own is refused alone.
 */

import assert from "node:assert/strict";
import { LeaseLostError } from "../lib/errors.ts";
import { SqliteStore } from "../lib/store/sqlite/store.ts";
import { newTask, T0 } from "./store/conformance/helpers.ts";

Deno.test("sqlite claims: in a burst of successes, the one of a task cancelled meanwhile is LeaseLostError", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-claims-" });
  const store = SqliteStore.open(dir);
  try {
    for (let i = 0; i < 3; i++) await store.enqueue(newTask({ sortKey: T0 + i }), T0);
    const claim = (workerId: string) =>
      store.claim({ workerId, queues: null, leaseMs: 60_000, now: T0 + 1 });
    const [a, b, c] = await Promise.all([claim("w1"), claim("w2"), claim("w3")]);
    assert.ok(a && b && c);
    await store.cancel(b.id, T0 + 2);
    const [doneA, doneB, doneC] = await Promise.allSettled([
      store.complete(a.id, a.fence, "a", T0 + 3),
      store.complete(b.id, b.fence, "b", T0 + 3),
      store.complete(c.id, c.fence, "c", T0 + 3),
    ]);
    assert.equal(doneA.status === "fulfilled" && doneA.value.task.result, "a");
    assert.ok(doneB.status === "rejected" && doneB.reason instanceof LeaseLostError);
    assert.equal(doneC.status === "fulfilled" && doneC.value.task.state, "succeeded");
    assert.equal((await store.getTask(b.id))?.state, "cancelled");
    assert.deepEqual((await store.getTask(c.id))?.result, "c");
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
