/**
 * Redis loses its data under a running cluster, black-box, on a private
 * redis-server without persistence: a restart (nothing on disk to load) and
 * a FLUSHALL. Every process reports it on `/health` (degraded, "Redis lost its
 * data (epoch changed at <time>)") within a heartbeat, says so once at ERROR,
 * counts it in `un_store_resets_total`, and one `store.reset` event is
 * logged; new work runs meanwhile; a process started after the loss reports
 * it too; `un store ack-reset` (the real CLI) clears every process; and a
 * second loss is seen like the first.
 *
 * Needs `redis-server`; without it the test is ignored, except under
 * `CI=true` where it fails.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import { runCli } from "./helpers/cli.ts";
import { api } from "./helpers/http.ts";
import { redisServerForTests, startRedis } from "./helpers/redis-server.ts";
import { startMany, startUn, timesSaid, type UnProcess } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const { ignore, suffix } = redisServerForTests("redis reset");

const HEARTBEAT_MS = 200;
const LOST = /^Redis lost its data \(epoch changed at \d{4}-\d\d-\d\dT[\d:.]+Z\)/;

interface HealthBody {
  status: string;
  problems: string[];
}

async function health(un: UnProcess): Promise<HealthBody> {
  return (await api<HealthBody>(un.url, "GET", "/health")).body;
}

/** Waits until every process reports the loss; returns their problems. */
function allReportLoss(procs: UnProcess[], within: number): Promise<string[][]> {
  return eventually(async () => {
    const bodies = await Promise.all(procs.map(health));
    const lost = bodies.every((b) => b.status === "degraded" && b.problems.some(isLoss));
    return lost ? bodies.map((b) => b.problems) : undefined;
  }, { timeoutMs: within, intervalMs: 20, message: "every process to report the loss of data" });
}

function isLoss(problem: string): boolean {
  return LOST.test(problem);
}

function allOk(procs: UnProcess[], within: number): Promise<true> {
  return eventually(
    async () => (await Promise.all(procs.map(health))).every((b) => b.status === "ok") || undefined,
    { timeoutMs: within, intervalMs: 20, message: "every process to be ok" },
  );
}

async function resets(un: UnProcess): Promise<number> {
  const text = await fetch(`${un.url}/metrics`).then((res) => res.text());
  const match = /^un_store_resets_total (\d+)$/m.exec(text);
  assert.ok(match, text);
  return Number(match[1]);
}

async function storeResetEvents(un: UnProcess): Promise<CloudEvent[]> {
  const res = await api<{ events: CloudEvent[] }>(
    un.url,
    "GET",
    "/un/events/history?type=store.*&limit=100",
  );
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.events;
}

async function ack(un: UnProcess): Promise<string> {
  const result = await runCli(["store", "ack-reset"], { UN_URL: un.url });
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

Deno.test({
  name:
    `redis reset: a restart without persistence and a FLUSHALL are reported until acknowledged${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis({ persistence: false });
    const config = {
      redis: { url: redis.url },
      scheduler: { tickMs: 100, heartbeatMs: HEARTBEAT_MS },
      workers: { concurrency: 1 },
    };
    await using group = await startMany([{ config }, { config }]);
    const [a, b] = group.procs;
    for (const un of group.procs) assert.equal(await resets(un), 0, "0 before any loss");
    const before = await api<{ task: { id: string } }>(a.url, "POST", "/un/tasks/create", {
      type: "noop",
    });
    assert.equal(before.status, 201);

    // 1. Redis restarts with nothing to load.
    await redis.restart();
    const restartedAt = Date.now();
    const problems = await allReportLoss(group.procs, 5_000);
    console.log(`both degraded ${Date.now() - restartedAt} ms after the restart`);
    for (const list of problems) {
      assert.ok(list.some((p) => /new work proceeds on the empty store/.test(p)), list.join("|"));
    }
    const gone = await api(a.url, "GET", `/un/tasks/${before.body.task.id}`);
    assert.equal(gone.status, 404, "the task was in the lost data");

    // Told once each: ERROR line and counter in every process, one event for the cluster.
    await eventually(async () => (await storeResetEvents(a)).length === 1, {
      timeoutMs: 3_000,
      message: "store.reset",
    });
    const [event] = await storeResetEvents(b);
    assert.equal(event.type, "store.reset");
    assert.equal(event.priority, "critical");
    assert.match(String((event.data as { message: string }).message), LOST);
    for (const un of group.procs) {
      assert.equal(await resets(un), 1);
      assert.match(un.stderrText(), /ERROR +\S+ +Redis lost its data \(epoch changed at/);
      assert.equal(timesSaid(un.stderrText(), "Redis lost its data"), 1, "said once");
    }

    // New work proceeds meanwhile; health stays degraded for several heartbeats.
    const fresh = await api<{ task: { id: string } }>(b.url, "POST", "/un/tasks/create", {
      type: "noop",
    });
    assert.equal(fresh.status, 201, JSON.stringify(fresh.body));
    await eventually(async () => {
      const res = await api<{ task: { state: string } }>(
        a.url,
        "GET",
        `/un/tasks/${fresh.body.task.id}`,
      );
      return res.body.task?.state === "succeeded" || undefined;
    }, { timeoutMs: 5_000, message: "a task created after the loss to succeed" });
    await new Promise((r) => setTimeout(r, 4 * HEARTBEAT_MS));
    for (const un of group.procs) assert.equal((await health(un)).status, "degraded");

    // The operator acknowledges through one process: all of them clear.
    assert.match(await ack(b), /^acknowledged: Redis lost its data at /);
    await allOk(group.procs, 3 * HEARTBEAT_MS + 2_000);
    assert.match(await ack(a), /^nothing to acknowledge/, "safe to repeat");
    for (const un of group.procs) assert.match(un.stderrText(), /store reset acknowledged/);

    // 2. FLUSHALL: the fresh epoch written after the first loss is gone too.
    const client = new Redis(redis.url);
    try {
      await client.flushall();
    } finally {
      client.disconnect();
    }
    const flushedAt = Date.now();
    await allReportLoss(group.procs, 3 * HEARTBEAT_MS + 2_000);
    console.log(`both degraded ${Date.now() - flushedAt} ms after FLUSHALL`);
    for (const un of group.procs) {
      assert.equal(await resets(un), 2);
      assert.equal(timesSaid(un.stderrText(), "Redis lost its data"), 2);
    }
    await eventually(async () => (await storeResetEvents(a)).length === 1, {
      timeoutMs: 3_000,
      message: "store.reset",
    });

    // A process that starts after the loss reports it too, until the acknowledgement.
    await using late = await startUn({ config, health: "any" });
    const lateHealth = await health(late);
    assert.equal(lateHealth.status, "degraded");
    assert.ok(lateHealth.problems.some(isLoss), lateHealth.problems.join("|"));
    assert.equal(await resets(late), 0, "it did not see the loss happen");
    assert.equal(timesSaid(late.stderrText(), "Redis lost its data"), 1, "but says it once");

    assert.match(await ack(late), /^acknowledged/);
    await allOk([...group.procs, late], 3 * HEARTBEAT_MS + 2_000);
  },
});
