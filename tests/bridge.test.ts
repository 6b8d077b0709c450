/**
 * The Redis event bridge, black-box: several `un start` processes on one
 * private Redis. An event published on one process reaches the others' live
 * streams once and is never echoed back to its own, and its hook runs once
 * across all processes; a cancel made on one process aborts the task on the
 * worker process running it; the bridge rides out a Redis restart without a
 * crash, delivering what was made meanwhile; a crashed bridge comes back with
 * fresh connections, its old ones closed; and a process is subscribed only to
 * the event types it follows, while an event made between a stream's opening
 * and its subscription taking effect still reaches it. The hooks' consumer
 * group on its own: bridge-hooks.test.ts.
 *
 * Needs `redis-server` (a private one per test, from `startRedis()`); without
 * it the tests are ignored, except under `CI=true` where they fail.
 */

import assert from "node:assert/strict";
import {
  encodeBroadcast,
  encodeEvents,
  EVENTS_FIELD,
  TYPES_FIELD,
} from "../lib/store/redis/bridge/wire.ts";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import type { Task } from "../lib/tasks/task.ts";
import {
  assertOneTaskPerEvent,
  bridgeState,
  bridgeTest,
  memberConfig,
  noopTasks,
  pendingOf,
  withAdmin,
} from "./helpers/bridge.ts";
import { openStream, publish } from "./helpers/events.ts";
import { api } from "./helpers/http.ts";
import { processId, startMany, startUn } from "./helpers/un-process.ts";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
import { eventually } from "./helpers/eventually.ts";

bridgeTest(
  "an event reaches other processes once and is not echoed back; a hook runs once",
  async (redis) => {
    await using c = await startMany([0, 1, 2].map(() => ({ config: memberConfig(redis) })));
    const [a, b, third] = c.procs;
    const streams = await Promise.all(
      [a, b, third].map((p) => openStream(`${p.url}/un/events/stream?type=x.*`)),
    );
    try {
      const ping = await publish(a, "x.ping", { n: 1 });
      const end = await publish(a, "x.end");
      for (const stream of streams) {
        const got = await stream.take(2);
        assert.deepEqual(got.map((m) => m.id), [ping.id, end.id]);
        assert.equal(JSON.parse(got[0].data).origin, await processId(a));
      }
      // Anything echoed back or delivered twice would have arrived by now.
      await Promise.all(streams.map((s) => s.quiet(500)));
    } finally {
      await Promise.all(streams.map((s) => s.close()));
    }

    const events: CloudEvent[] = [];
    for (let i = 0; i < 30; i++) {
      events.push(await publish([a, b, third][i % 3], `x.n${i % 4}`, { i }));
    }
    const all = await eventually(async () => {
      const tasks = await noopTasks(a);
      return tasks.length >= events.length + 2 && tasks;
    }, { timeoutMs: 15_000, message: "a hook task per event" });
    // Long enough for a reclaim round (200 ms) and an entry's idle limit (1 s) to pass.
    await new Promise((r) => setTimeout(r, 1_500));
    const tasks = await noopTasks(b);
    assert.equal(tasks.length, all.length);
    const history = await api<{ events: CloudEvent[] }>(
      b.url,
      "GET",
      "/un/events/history?type=x.*&limit=1000",
    );
    assertOneTaskPerEvent(tasks, history.body.events);
    assert.equal(history.body.events.length, events.length + 2);
    assert.equal((await pendingOf(redis)).count, 0, "every entry acknowledged");
  },
);

bridgeTest(
  "an event written twice (a retried write) is delivered once and applied once",
  async (redis) => {
    await using c = await startMany([0, 1].map(() => ({ config: memberConfig(redis) })));
    const [a, b] = c.procs;
    const stream = await openStream(`${b.url}/un/events/stream?type=x.*`);
    try {
      const event = await publish(a, "x.twice", { n: 1 });
      const [first] = await stream.take(1);
      assert.equal(first.id, event.id);
      await eventually(async () => (await noopTasks(b)).length === 1, {
        timeoutMs: 10_000,
        message: "its hook task",
      });
      // The same event appended to the stream and published on its channel once
      // more (as another writer, or an older version retrying a batch, could).
      await withAdmin(redis, async (admin) => {
        const json = encodeEvents([event]);
        await admin.xadd(
          "bridge-test:events:stream",
          "*",
          TYPES_FIELD,
          event.type,
          EVENTS_FIELD,
          json,
        );
        await admin.publish("bridge-test:events:x.twice", encodeBroadcast(event.origin, json));
      });
      await stream.quiet(500);
      await eventually(async () => (await pendingOf(redis)).count === 0, {
        timeoutMs: 5_000,
        message: "the ack",
      });
      assertOneTaskPerEvent(await noopTasks(b), [event]);
    } finally {
      await stream.close();
    }
  },
);

bridgeTest(
  "a cancel made on the API process aborts the task on the worker process",
  async (redis) => {
    // Long leases: without the bridge the worker would only notice at its next renewal.
    const workers = { concurrency: 1, leaseMs: 60_000 };
    await using c = await startMany([
      { config: memberConfig(redis, {}, workers), args: ["--role", "api"] },
      { config: memberConfig(redis, {}, workers), args: ["--role", "worker"] },
    ]);
    const [apiProc, worker] = c.procs;
    const created = await api<{ task: Task }>(apiProc.url, "POST", "/un/tasks/create", {
      type: "sleep",
      payload: { ms: 60_000 },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.task.id;
    const runsOnWorker = async () => {
      const res = await api<{ workers: { taskId: string | null }[] }>(
        worker.url,
        "GET",
        "/un/workers",
      );
      return res.body.workers.some((w) => w.taskId === id);
    };
    await eventually(runsOnWorker, {
      timeoutMs: 10_000,
      message: "the worker process to run the sleep task",
    });

    const cancelledAt = Date.now();
    const cancel = await api<{ task: Task }>(apiProc.url, "DELETE", `/un/tasks/${id}`);
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    await eventually(async () => !(await runsOnWorker()), {
      timeoutMs: 5_000,
      message: "the worker to abort the task",
    });
    const tookMs = Date.now() - cancelledAt;
    assert.ok(tookMs < 2_000, `abort took ${tookMs}ms`);
    const task = await api<{ task: Task }>(worker.url, "GET", `/un/tasks/${id}`);
    assert.equal(task.body.task.state, "cancelled");
  },
);

bridgeTest(
  "a Redis restart is ridden out; events made meanwhile go out once it is back",
  async (redis) => {
    await using c = await startMany([0, 1].map(() => ({ config: memberConfig(redis) })));
    const [a, b] = c.procs;
    // Held open on B through the outage: its subscriber connection drops with Redis.
    const watching = await openStream(`${b.url}/un/events/stream?type=x.*`);
    const before = await publish(a, "x.before");
    await eventually(async () => (await noopTasks(b)).length === 1, {
      timeoutMs: 10_000,
      message: "first hook task",
    });

    await redis.stop();
    await eventually(async () => (await bridgeState(a)).state === "down", {
      timeoutMs: 10_000,
      message: "A's bridge to report Redis down",
    });
    // The event log holds it while the store is away; its write, once Redis is back, publishes it.
    const during = await publish(a, "x.during");
    await redis.restart();
    await eventually(
      async () => (await bridgeState(a)).state === "up" && (await bridgeState(b)).state === "up",
      { timeoutMs: 15_000, message: "both bridges to reconnect" },
    );
    const stream = await openStream(`${b.url}/un/events/stream?type=x.after`);
    try {
      const after = await publish(a, "x.after");
      const [got] = await stream.take(1);
      assert.equal(got.id, after.id);
      await eventually(async () => (await noopTasks(b)).length === 3, {
        timeoutMs: 15_000,
        message: "hook tasks of the events made during and after the outage",
      });
      assertOneTaskPerEvent(await noopTasks(b), [before, during, after]);
      // What A published around the outage reached B's stream once: live or from the
      // log (B catches up when its subscription is back), never both.
      const seen = (await watching.take(3)).map((m) => JSON.parse(m.data).id);
      assert.deepEqual(new Set(seen), new Set([before.id, during.id, after.id]));
      await watching.quiet(500);
    } finally {
      await stream.close();
      await watching.close();
    }
    for (const p of [a, b]) assert.equal((await bridgeState(p)).restarts, 0);
  },
);

bridgeTest(
  "a crashed bridge is restarted with fresh connections; the old ones are closed",
  async (redis) => {
    await using un = await startUn({ config: memberConfig(redis), env: { UN_FAULTS: "crash" } });
    const bridgeClients = () =>
      withAdmin(redis, async (admin) => {
        const list = await admin.client("LIST") as string;
        return list.split("\n").filter((line) => / name=un-bridge-/.test(line)).length;
      });
    // Writer, subscriber and blocking reader.
    await eventually(async () => (await bridgeClients()) === 3, {
      timeoutMs: 10_000,
      message: "3 bridge connections",
    });
    const crash = await api(un.url, "POST", "/un/debug/crash/bridge");
    assert.ok(crash.status < 300, JSON.stringify(crash.body));
    await eventually(async () => {
      const bridge = await bridgeState(un);
      return bridge.restarts === 1 && bridge.state === "up";
    }, { timeoutMs: 10_000, message: "the bridge to be restarted and connected" });
    await eventually(async () => (await bridgeClients()) === 3, {
      timeoutMs: 10_000,
      message: "old connections closed",
    });
    const event = await publish(un, "x.after-crash");
    await eventually(async () => (await noopTasks(un)).length === 1, {
      timeoutMs: 10_000,
      message: "its hook task",
    });
    assertOneTaskPerEvent(await noopTasks(un), [event]);
  },
);

bridgeTest(
  "a process is sent only the event types it follows; an SSE stream adds its own",
  async (redis) => {
    await using c = await startMany([0, 1].map(() => ({ config: memberConfig(redis) })));
    const [a, b] = c.procs;
    // Distinct patterns subscribed across both processes.
    const patterns = () => withAdmin(redis, async (admin) => Number(await admin.pubsub("NUMPAT")));
    // What the runtime itself follows from others (cancels, source, hook and
    // schedule changes, scan requests), the same on both: settled once the
    // count holds still.
    let internal = -1;
    await eventually(async () => {
      const [before, after] = [await patterns(), await delay(300).then(patterns)];
      internal = after;
      return before === after && after >= 3;
    }, { timeoutMs: 10_000, message: "the internal patterns" });
    const stream = await openStream(`${b.url}/un/events/stream?type=y.*`);
    try {
      await eventually(async () => (await patterns()) === internal + 1, {
        timeoutMs: 5_000,
        message: "the stream's pattern",
      });
      const event = await publish(a, "y.seen", { n: 1 });
      const [got] = await stream.take(1);
      assert.equal(got.id, event.id);
    } finally {
      await stream.close();
    }
    await eventually(async () => (await patterns()) === internal, {
      timeoutMs: 10_000,
      message: "the pattern to be dropped",
    });
  },
);

bridgeTest(
  "an event made right after a stream opens reaches it, though the subscription takes effect later",
  async (redis) => {
    // b takes a second over each change of what it follows: its stream's
    // headers go out long before Redis has its subscription, and a publishes
    // meanwhile, which neither pub/sub nor a's gate can deliver live.
    await using c = await startMany([
      { config: memberConfig(redis) },
      { config: memberConfig(redis), env: { UN_FAULTS: "slow-follow" } },
    ]);
    const [a, b] = c.procs;
    const stream = await openStream(`${b.url}/un/events/stream?type=z.*`, {}, {
      connected: false,
    });
    try {
      const event = await publish(a, "z.early", { n: 1 });
      const [got] = await stream.take(1);
      assert.equal(got.id, event.id);
      await stream.quiet(500);
    } finally {
      await stream.close();
    }
  },
);
