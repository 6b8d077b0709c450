/**
 * Conformance: claims that weigh tasks' `resources` against what is free (an
 * `available` record, or a pool's shared budget), skip what does not fit
 * without blocking the tasks behind it, hold back for a skipped task that
 * could run here, and never hand out more than a shared budget has when
 * many claims run at once.
 */

import assert from "node:assert/strict";
import { fits, ResourceLedger } from "../../../lib/tasks/resources.ts";
import type { Task } from "../../../lib/tasks/task.ts";
import { add, claimNext, fetchTask, mustClaim, type StoreCase, T0 } from "./helpers.ts";

/** Claims until nothing is left for these options. */
async function claimAll(
  claim: () => Promise<Task | null>,
): Promise<Task[]> {
  const taken: Task[] = [];
  for (let task = await claim(); task; task = await claim()) taken.push(task);
  return taken;
}

/** Lets a ledger's deferred wake run, so a case leaves no timer behind. */
const settleTimers = () => new Promise((resolve) => setTimeout(resolve, 5));

/**
 * Cases of `claim` with resources (part of the claim area).
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(resourceCases)) await t.step(rule, () => body(store));
 * ```
 */
export const resourceCases: Record<string, StoreCase> = {
  "a claim with `available` never returns a task that does not fit": async (store) => {
    const asks: Record<string, number>[] = [
      { gpu: 2 },
      { gpu: 1, ramGb: 4 },
      { ramGb: 8 },
      {},
      { gpu: 1 },
      { tpu: 1 },
      { gpu: 0 },
      { gpu: 1, ramGb: 5 },
    ];
    const tasks = [];
    for (const [i, resources] of asks.entries()) {
      tasks.push(await add(store, { resources, sortKey: T0 + i }));
    }
    const available = { gpu: 1, ramGb: 4 };
    const taken = await claimAll(() => claimNext(store, T0, { available }));
    for (const task of taken) assert.ok(fits(task.resources, available), task.id);
    // Each claim is weighed on its own against `available`: every task that fits is taken.
    const expected = tasks.filter((t) => fits(t.resources, available)).map((t) => t.id);
    assert.deepEqual(taken.map((t) => t.id), expected);
    for (const task of tasks.filter((t) => !expected.includes(t.id))) {
      assert.equal((await fetchTask(store, task.id)).state, "queued");
    }
  },

  "a task that does not fit is skipped and the one behind it is taken": async (store) => {
    const tooBig = await add(store, { resources: { gpu: 4 }, sortKey: T0 - 3 });
    const gpu = await add(store, { resources: { gpu: 1 }, sortKey: T0 - 2 });
    const plain = await add(store, { sortKey: T0 - 1 });
    const options = { available: { gpu: 2 }, capacity: { gpu: 2 } };
    // More than the capacity: it can never run here and holds nothing back.
    assert.equal((await mustClaim(store, T0, options)).id, gpu.id);
    assert.equal((await mustClaim(store, T0, options)).id, plain.id);
    assert.equal(await claimNext(store, T0, options), null);
    assert.equal((await fetchTask(store, tooBig.id)).state, "queued");
    // Across queues too, and with no resources free at all.
    const other = await add(store, { queue: "other", sortKey: T0 });
    assert.equal(
      (await mustClaim(store, T0, { available: {}, queues: ["default", "other"] })).id,
      other.id,
    );
  },

  "a skipped task that fits the capacity holds back what it needs, and goes first once free":
    async (store) => {
      const wide = await add(store, { resources: { gpu: 2 }, sortKey: T0 - 4 });
      const narrow = await add(store, { resources: { gpu: 1 }, sortKey: T0 - 3 });
      const ram = await add(store, { resources: { ramGb: 2 }, sortKey: T0 - 2 });
      const plain = await add(store, { sortKey: T0 - 1 });
      const capacity = { gpu: 2, ramGb: 2 };
      // One gpu is in use elsewhere: the gpu:1 task behind must not take the
      // other one, or the gpu:2 task could wait for ever; other resources and
      // tasks without any still run.
      const busy = { available: { gpu: 1, ramGb: 2 }, capacity };
      assert.equal((await mustClaim(store, T0, busy)).id, ram.id);
      assert.equal((await mustClaim(store, T0, busy)).id, plain.id);
      assert.equal(await claimNext(store, T0, busy), null);
      assert.equal((await fetchTask(store, narrow.id)).state, "queued");
      const free = { available: { gpu: 2, ramGb: 2 }, capacity };
      assert.equal((await mustClaim(store, T0, free)).id, wide.id);
      assert.equal((await mustClaim(store, T0, free)).id, narrow.id);
      // Without a capacity nothing is held back (a claim that knows no better).
      await add(store, { resources: { gpu: 2 }, sortKey: T0 - 2 });
      const behind = await add(store, { resources: { gpu: 1 }, sortKey: T0 - 1 });
      assert.equal((await mustClaim(store, T0, { available: { gpu: 1 } })).id, behind.id);
    },

  "concurrent claims sharing a budget never take more than it has": async (store) => {
    const ledger = new ResourceLedger({ gpu: 3 });
    const gpuTasks = new Set<string>();
    for (let i = 0; i < 6; i++) {
      gpuTasks.add((await add(store, { resources: { gpu: 1 }, sortKey: T0 + i })).id);
    }
    gpuTasks.add((await add(store, { resources: { gpu: 2 }, sortKey: T0 + 6 })).id);
    for (let i = 0; i < 5; i++) await add(store, { sortKey: T0 + 10 + i });
    const round = (n: number) =>
      Promise.all(
        Array.from(
          { length: n },
          (_, i) => claimNext(store, T0, { workerId: `w${i}`, budget: ledger }),
        ),
      );
    // More claims at once than a batch takes whole: on Redis they go as two
    // script runs in flight together.
    const first = (await round(16)).filter((task): task is Task => task !== null);
    const gpu = first.filter((task) => gpuTasks.has(task.id));
    const units = gpu.reduce((sum, task) => sum + (task.resources.gpu ?? 0), 0);
    assert.equal(units, 3, "every gpu is taken, and no more");
    assert.equal(first.length - gpu.length, 5, "tasks without resources all run beside them");
    assert.deepEqual(ledger.usage(), { gpu: { capacity: 3, inUse: 3 } });
    assert.equal(await claimNext(store, T0, { workerId: "late", budget: ledger }), null);
    // One task ends: exactly its gpu is free again, for one more task.
    ledger.release(gpu[0].id);
    const second = (await round(8)).filter((task): task is Task => task !== null);
    assert.equal(second.length, 1);
    assert.deepEqual(second[0].resources, { gpu: 1 });
    assert.deepEqual(ledger.usage(), { gpu: { capacity: 3, inUse: 3 } });
    await settleTimers();
  },
};
