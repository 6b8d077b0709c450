/**
 * Redis goes away under a running `un start`, black-box, on a private
 * redis-server: `/health` says degraded, a create gets 503 with a clear
 * message, publishes go to the process's bounded event buffer (202) until it
 * is full (503), nothing crashes, and a task whose success could not be
 * recorded stays leased. Redis back: health is ok again, new work runs, the
 * leased task comes back through the reaper, the buffered events are in the
 * history — all without a restart. A shutdown during an outage still exits.
 * And at the store: a complete or fail that ioredis sends again after a lost
 * reply gets its own outcome back instead of a lost lease.
 *
 * Needs `redis-server`; without it the test is ignored, except under
 * `CI=true` where it fails.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { LeaseLostError } from "../lib/errors.ts";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import { RedisStore } from "../lib/store/redis/store.ts";
import type { ErrorJson } from "./helpers/api.ts";
import { api } from "./helpers/http.ts";
import { redisServerForTests, startRedis } from "./helpers/redis-server.ts";
import { processId, REPO, startUn, timesSaid, type UnProcess } from "./helpers/un-process.ts";
import { mustClaim, newTask, T0 } from "./store/conformance/helpers.ts";
import { eventually } from "./helpers/eventually.ts";

const { ignore, suffix } = redisServerForTests("redis outage");

/** Small, so a handful of publishes fills it. */
const BUFFER_MAX = 5;

interface TaskBody {
  task: { id: string; state: string };
}
interface HealthBody {
  status: string;
  store: { ok: boolean; error?: string };
  problems: string[];
}

async function taskState(un: UnProcess, id: string): Promise<string> {
  const res = await api<TaskBody>(un.url, "GET", `/un/tasks/${id}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.task.state;
}

Deno.test({
  name: `redis outage: degraded and 503 while Redis is away, work resumes when it is back${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using un = await startUn({
      config: {
        redis: { url: redis.url },
        handlers: join(REPO, "tests/fixtures/handlers.ts"),
        workers: { concurrency: 2, leaseMs: 1_000, shutdownGraceMs: 1_000 },
        scheduler: { tickMs: 100, heartbeatMs: 200 },
        events: { bufferMax: BUFFER_MAX },
      },
    });

    const marks = join(un.dir, "marks.txt");

    // A task that is still running when Redis goes and finishes while it is away.
    const slow = await api<TaskBody>(un.url, "POST", "/un/tasks/create", {
      type: "mark",
      payload: { ms: 1_500, file: marks },
    });
    assert.equal(slow.status, 201, JSON.stringify(slow.body));
    const slowId = slow.body.task.id;
    await eventually(async () => (await taskState(un, slowId)) === "running", {
      timeoutMs: 10_000,
      message: "running",
    });

    await redis.stop();
    const stoppedAt = Date.now();

    const degraded = await eventually(async () => {
      const res = await api<HealthBody>(un.url, "GET", "/health");
      return res.status === 503 ? res.body : undefined;
    }, { timeoutMs: 3_000, message: "/health 503 within 3 s of Redis stopping" });
    assert.equal(degraded.status, "degraded");
    assert.equal(degraded.store.ok, false);
    assert.match(degraded.store.error ?? "", /redis is unreachable \(.+\)/);
    assert.ok(
      degraded.problems.some((p) => p.includes("redis is unreachable")),
      JSON.stringify(degraded.problems),
    );
    console.log(`degraded after ${Date.now() - stoppedAt} ms`);

    const refused = await api<ErrorJson>(un.url, "POST", "/un/tasks/create", { type: "noop" });
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, "unavailable");
    assert.match(
      refused.body.error.message,
      /^redis is unreachable \(.+\); try again when \/health is ok$/,
    );

    // Reads that need Redis answer 503 too; the heartbeat says once that it cannot record.
    const listed = await api<ErrorJson>(un.url, "GET", "/un/processes");
    assert.equal(listed.status, 503, JSON.stringify(listed.body));
    assert.match(listed.body.error.message, /^redis is unreachable/);

    // Publishes are buffered in the process until the buffer is full, then refused.
    const accepted: string[] = [];
    let full: ErrorJson | null = null;
    for (let i = 0; i < BUFFER_MAX + 3 && full === null; i++) {
      const res = await api<{ event: CloudEvent } & ErrorJson>(
        un.url,
        "POST",
        "/un/events/publish",
        { type: "outage.note", data: { i } },
      );
      if (res.status === 202) accepted.push(res.body.event.id);
      else if (res.status === 503) full = res.body;
      else assert.fail(`publish answered ${res.status}: ${JSON.stringify(res.body)}`);
    }
    assert.ok(accepted.length >= 1, "publishes are accepted into the buffer first");
    assert.ok(full, `no 503 after ${accepted.length} buffered publishes`);
    assert.match(full.error.message, /^event buffer full \(\d+ events waiting for the store\)/);
    // The buffer shows in the metrics and as a health problem.
    const metrics = await fetch(`${un.url}/metrics`).then((res) => res.text());
    const buffered = Number(/^un_events_buffered (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(buffered >= accepted.length, metrics);
    assert.match(metrics, /^un_events_dropped_total \d+$/m);
    const problems = (await api<HealthBody>(un.url, "GET", "/health")).body.problems;
    assert.ok(problems.some((p) => /^\d+ events buffered/.test(p)), JSON.stringify(problems));

    // The slow task finishes while Redis is away: its success cannot be
    // recorded, so it stays leased instead of being failed.
    await eventually(() => un.stderrText().includes("could not record the task's outcome"), {
      timeoutMs: 5_000,
      message: "the worker to report the unrecorded outcome",
    });

    // Still alive and answering after seconds without Redis.
    const stillUp = await api<HealthBody>(un.url, "GET", "/health");
    assert.equal(stillUp.status, 503);

    await redis.restart();
    const restartedAt = Date.now();
    await eventually(async () => {
      const res = await api<HealthBody>(un.url, "GET", "/health");
      return res.status === 200 ? res.body : undefined;
    }, { timeoutMs: 3_000, message: "/health ok within 3 s of Redis coming back" });
    console.log(`healthy ${Date.now() - restartedAt} ms after Redis came back`);
    const self = await processId(un);
    await eventually(async () => {
      const res = await api<{ processes: { id: string }[] }>(un.url, "GET", "/un/processes");
      return res.status === 200 && res.body.processes.some((p) => p.id === self) || undefined;
    }, { timeoutMs: 3_000, message: "the process to record itself again" });

    const fresh = await api<TaskBody>(un.url, "POST", "/un/tasks/create", {
      type: "mark",
      payload: { ms: 1, file: marks },
    });
    assert.equal(fresh.status, 201, JSON.stringify(fresh.body));
    await eventually(async () => (await taskState(un, fresh.body.task.id)) === "succeeded", {
      timeoutMs: 5_000,
      message: "a task created after the outage to succeed",
    });
    console.log(`new task succeeded ${Date.now() - restartedAt} ms after Redis came back`);

    // The leased task comes back through the reaper and runs again (at least once).
    await eventually(async () => (await taskState(un, slowId)) === "succeeded", {
      timeoutMs: 10_000,
      message: "the task whose outcome was lost to succeed after its lease ran out",
    });
    const ran = (await Deno.readTextFile(marks)).split("\n").filter((l) => l === slowId).length;
    assert.ok(ran >= 1, "the slow task ran");

    // Every buffered event reached the shared log, in order.
    const history = await eventually(async () => {
      const res = await api<{ events: CloudEvent[] }>(
        un.url,
        "GET",
        "/un/events/history?type=outage.*&limit=100",
      );
      const ids = res.body.events.map((e) => e.id);
      return accepted.every((id) => ids.includes(id)) ? ids : undefined;
    }, { timeoutMs: 5_000, message: "the buffered events in the history" });
    assert.deepEqual(history, accepted);

    const stderr = un.stderrText();
    assert.equal(timesSaid(stderr, "redis connection lost"), 1, "one line per outage");
    assert.equal(timesSaid(stderr, "redis connection is back"), 1);
    assert.equal(timesSaid(stderr, "could not record this process"), 1, "said once per outage");
    assert.equal(timesSaid(stderr, "process record written again"), 1);
    assert.ok(!stderr.includes("Uncaught"), stderr.slice(-2_000));

    // A shutdown while Redis is away still ends, cleanly.
    await redis.stop();
    await eventually(async () => (await api(un.url, "GET", "/health")).status === 503, {
      timeoutMs: 3_000,
      message: "503",
    });
    const stopping = Date.now();
    const status = await un.stop("SIGTERM", 20_000);
    const tookMs = Date.now() - stopping;
    console.log(`stopped during an outage in ${tookMs} ms`);
    assert.equal(status.code, 0, un.stderrText().slice(-2_000));
    assert.ok(tookMs < 10_000, `shutdown took ${tookMs} ms`);
    assert.match(un.stderrText(), /INFO +un +stopped/);
  },
});

Deno.test({
  name:
    `redis outage: a complete or fail sent again after its reply was lost gets its outcome back${suffix}`,
  ignore,
  async fn() {
    // ioredis resends a command whose reply a dropped connection lost; the
    // first run may have been applied. The same call again (same fence,
    // arguments and time) must answer as the first did, or the worker would
    // take its own success for a lost lease and never announce it.
    await using redis = await startRedis();
    const store = await RedisStore.open({ url: redis.url, prefix: "un-replay:" });
    try {
      await store.enqueueMany([newTask(), newTask(), newTask()], T0);
      const lease = { workerId: "w1", queues: null, leaseMs: 30_000 };
      const [a, b, c] = [
        await mustClaim(store, T0 + 1, lease),
        await mustClaim(store, T0 + 2, lease),
        await mustClaim(store, T0 + 3, lease),
      ];

      const done = await store.complete(a.id, a.fence, { ok: 1 }, T0 + 10);
      const again = await store.complete(a.id, a.fence, { ok: 1 }, T0 + 10);
      assert.deepEqual(again.task, done.task);
      // A later or different call is still refused by the fence.
      await assert.rejects(store.complete(a.id, a.fence, { ok: 1 }, T0 + 11), LeaseLostError);
      await assert.rejects(store.complete(a.id, a.fence, { ok: 2 }, T0 + 10), LeaseLostError);

      const boom = { message: "boom", attempt: 1 };
      const retrying = await store.fail(b.id, b.fence, boom, T0 + 5_000, T0 + 20);
      const retryingAgain = await store.fail(b.id, b.fence, boom, T0 + 5_000, T0 + 20);
      assert.equal(retryingAgain.task.state, "retrying");
      assert.deepEqual(retryingAgain.task, retrying.task);
      await assert.rejects(store.fail(b.id, b.fence, boom, T0 + 6_000, T0 + 21), LeaseLostError);

      const permanent = { ...boom, permanent: true };
      const failed = await store.fail(c.id, c.fence, permanent, null, T0 + 30);
      const failedAgain = await store.fail(c.id, c.fence, permanent, null, T0 + 30);
      assert.deepEqual(failedAgain.task, failed.task);
      await assert.rejects(store.fail(c.id, c.fence, permanent, null, T0 + 31), LeaseLostError);
    } finally {
      await store.close();
    }
  },
});
