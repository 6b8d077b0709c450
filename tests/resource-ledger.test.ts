/**
 * The pieces of `workers.resources` in process: the pool's ledger (one loan
 * at a time, holds by task, release and the wake of idle workers), the
 * fit and hold-back rules, the explanation of a task no live worker can
 * fit, and the embedded create check.
 */

import assert from "node:assert/strict";
import { parseConfig } from "../lib/config/load.ts";
import { ValidationError } from "../lib/errors.ts";
import { explainTask } from "../lib/tasks/priority.ts";
import { fits, holdBack, ResourceLedger } from "../lib/tasks/resources.ts";
import { checkResourceFit, resourceWait } from "../lib/safety/resource-fit.ts";
import type { ProcessRecord } from "../lib/store/types.ts";
import { newTask } from "./store/conformance.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

function worker(resources: Record<string, number> | undefined, concurrency = 4): ProcessRecord {
  return {
    id: `p${Math.random()}`,
    role: "worker",
    host: "h",
    pid: 1,
    startedAt: 0,
    seenAt: 0,
    concurrency,
    busy: 0,
    paused: false,
    ...(resources ? { resources } : {}),
  };
}

Deno.test("ledger: one loan at a time; what a loan's claims took is held until released", async () => {
  const ledger = new ResourceLedger({ gpu: 2, ramGb: 8 });
  const loan = ledger.lend();
  assert.deepEqual(loan.free, { gpu: 2, ramGb: 8 });
  const refused = ledger.lend();
  assert.equal(refused.refused, true);
  assert.deepEqual(refused.free, {});
  let settled = false;
  const waiting = ledger.settled().then(() => (settled = true));
  loan.settle([
    { workerId: "w1", taskId: "t1", resources: { gpu: 1, ramGb: 4 } },
    { workerId: "w2", taskId: "t2", resources: {} },
  ]);
  loan.settle([{ workerId: "w3", taskId: "t3", resources: { gpu: 1 } }]); // once only
  await waiting;
  assert.ok(settled);
  assert.deepEqual(ledger.usage(), {
    gpu: { capacity: 2, inUse: 1 },
    ramGb: { capacity: 8, inUse: 4 },
  });
  assert.deepEqual(ledger.lend().free, { gpu: 1, ramGb: 4 });
});

Deno.test("ledger: a release wakes idle workers once nothing holds the loan", async () => {
  let wakes = 0;
  const ledger = new ResourceLedger({ gpu: 1 });
  ledger.wake = () => wakes++;
  ledger.lend().settle([{ workerId: "w1", taskId: "t1", resources: { gpu: 1 } }]);
  ledger.confirm("t1");
  ledger.release("t1");
  const loan = ledger.lend(); // the releasing worker's own next claim
  await tick();
  assert.equal(wakes, 0, "not while a claim holds the loan");
  loan.settle([]);
  await tick();
  assert.equal(wakes, 1, "the gpu is still free: idle workers look");
  ledger.release("t1");
  await tick();
  assert.equal(wakes, 1, "releasing twice frees nothing more");
});

Deno.test("ledger: a failed claim frees what it recorded, not what a running task holds", async () => {
  const ledger = new ResourceLedger({ gpu: 2 });
  ledger.lend().settle([{ workerId: "w1", taskId: "running", resources: { gpu: 1 } }]);
  ledger.confirm("running");
  ledger.lend().settle([{ workerId: "w1", taskId: "never-got", resources: { gpu: 1 } }]);
  ledger.claimFailed("w1");
  assert.deepEqual(ledger.usage(), { gpu: { capacity: 2, inUse: 1 } });
  await tick();
});

Deno.test("ledger: a pool without resources lends nothing and records nothing", () => {
  const ledger = new ResourceLedger({});
  const [a, b] = [ledger.lend(), ledger.lend()];
  assert.equal(a.refused || b.refused, false);
  assert.deepEqual(a.free, {});
  a.settle([{ workerId: "w", taskId: "t", resources: { gpu: 1 } }]);
  assert.deepEqual(ledger.usage(), {});
});

Deno.test("fits and holdBack", () => {
  assert.equal(fits({ gpu: 1 }, { gpu: 1 }), true);
  assert.equal(fits({ gpu: 1 }, {}), false);
  assert.equal(fits({ gpu: 0 }, {}), true);
  assert.equal(fits({ gpu: 9 }, null), true);
  assert.deepEqual(holdBack({ gpu: 2 }, { gpu: 1 }, { gpu: 2 }), { gpu: -1 });
  assert.deepEqual(holdBack({ gpu: 3 }, { gpu: 1 }, { gpu: 2 }), { gpu: 1 });
  assert.deepEqual(holdBack({ gpu: 2 }, { gpu: 1 }, undefined), { gpu: 1 });
});

Deno.test("resourceWait names what no live worker has", () => {
  const one = worker({ gpu: 1 });
  assert.deepEqual(resourceWait({ gpu: 5 }, [one, worker({})]), {
    message: "needs gpu: 5; the most any live process has is gpu: 1",
    missing: [{ resource: "gpu", needs: 5, most: 1 }],
  });
  assert.equal(resourceWait({ gpu: 1 }, [one]), null);
  assert.equal(resourceWait({}, [one]), null);
  assert.equal(resourceWait({ gpu: 5 }, []), null, "no worker alive: nothing to weigh");
  assert.equal(resourceWait({ gpu: 5 }, [one, worker(undefined)]), null, "an older worker");
  assert.equal(resourceWait({ gpu: 5 }, [worker({ gpu: 8 }, 0)]), null, "an api process");
  const apart = resourceWait({ gpu: 1, ramGb: 8 }, [worker({ gpu: 1 }), worker({ ramGb: 16 })]);
  assert.deepEqual(apart?.missing, []);
  assert.match(apart!.message, /no live process has all of it at once .*gpu: 1, ramGb: 16/);
  const task = newTask({ resources: { gpu: 5 } });
  const shown = explainTask({ ...task, state: "queued" } as never, resourceWait({ gpu: 5 }, [one]));
  assert.match(shown.explanation.notes![0], /^waits for resources: needs gpu: 5/);
});

Deno.test("checkResourceFit: 400 on the embedded store only", () => {
  const embedded = parseConfig({ workers: { resources: { gpu: 1 } } });
  assert.throws(
    () => checkResourceFit([{ type: "noop", resources: { gpu: 2 } }], embedded),
    (e: unknown) => e instanceof ValidationError && /needs gpu: 2 .*gpu: 1/.test(e.message),
  );
  checkResourceFit([{ type: "noop", resources: { gpu: 1 } }], embedded);
  const shared = parseConfig({
    redis: { url: "redis://127.0.0.1:1" },
    workers: { resources: { gpu: 1 } },
  });
  checkResourceFit([{ type: "noop", resources: { gpu: 2 } }], shared);
});
