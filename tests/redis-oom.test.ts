/**
 * Redis reaches `maxmemory` (policy noeviction) under a running `un start`,
 * black-box, on a private redis-server: `/health` says degraded, "Redis is
 * out of memory (maxmemory <bytes>)", creates and publishes answer 503 saying
 * "out of memory" (never 500), and the events of tasks accepted just before
 * wait in the process instead of being dropped. With room again (maxmemory
 * raised), health is ok within a heartbeat and every one of those events is
 * in the history; the fault was said once at ERROR.
 *
 * Needs `redis-server`; without it the test is ignored, except under
 * `CI=true` where it fails.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import type { ErrorJson } from "./helpers/api.ts";
import { api } from "./helpers/http.ts";
import { redisServerForTests, startRedis } from "./helpers/redis-server.ts";
import { startUn, timesSaid } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const { ignore, suffix } = redisServerForTests("redis out of memory");

const HEARTBEAT_MS = 200;

interface HealthBody {
  status: string;
  problems: string[];
}

Deno.test({
  name:
    `redis out of memory: 503 and degraded, accepted tasks' events kept until Redis has room${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis();
    await using un = await startUn({
      config: {
        redis: { url: redis.url },
        scheduler: { tickMs: 100, heartbeatMs: HEARTBEAT_MS },
        // A task whose end could not be recorded comes back when its lease runs out.
        workers: { concurrency: 2, leaseMs: 1_000 },
        // The longest group commit: events of the tasks created below are
        // still waiting for it when Redis stops taking writes.
        events: { flushMs: 1_000, bufferMax: 5 },
      },
    });
    const admin = new Redis(redis.url);
    try {
      await admin.config("SET", "maxmemory-policy", "noeviction");

      // Accepted (201) just before Redis fills up: more than the buffer
      // bound, which applies to other events, never to these.
      const created = await Promise.all(
        Array.from(
          { length: 8 },
          (_, i) =>
            api<{ task: { id: string } }>(un.url, "POST", "/un/tasks/create", {
              type: "noop",
              payload: { i },
            }),
        ),
      );
      for (const res of created) assert.equal(res.status, 201, JSON.stringify(res.body));
      const ids = created.map((res) => res.body.task.id);
      await admin.config("SET", "maxmemory", "1");
      const fullAt = Date.now();

      const degraded = await eventually(async () => {
        const res = await api<HealthBody>(un.url, "GET", "/health");
        // The limit is read from Redis right after the refusal; until then it says "unknown".
        return res.body.problems?.some((p) =>
          /^Redis is out of memory \(maxmemory 1 bytes\)/.test(p)
        ) &&
          res;
      }, { timeoutMs: 3_000, intervalMs: 20, message: "/health to report Redis out of memory" });
      console.log(`degraded ${Date.now() - fullAt} ms after maxmemory was lowered`);
      assert.equal(degraded.status, 503);
      assert.equal(degraded.body.status, "degraded");
      assert.ok(
        degraded.body.problems.some((p) => /^Redis is out of memory \(maxmemory 1 bytes\)/.test(p)),
        degraded.body.problems.join("|"),
      );

      const refused = await api<ErrorJson>(un.url, "POST", "/un/tasks/create", { type: "noop" });
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.equal(refused.body.error.code, "unavailable");
      assert.match(refused.body.error.message, /out of memory/);
      assert.match(refused.body.error.message, /try again when \/health is ok$/);

      const published = await api<ErrorJson>(un.url, "POST", "/un/events/publish", {
        type: "oom.note",
      });
      assert.equal(published.status, 503, JSON.stringify(published.body));
      assert.match(published.body.error.message, /out of memory/);

      // The accepted tasks' events wait in the process, none dropped.
      await eventually(async () => {
        const text = await fetch(`${un.url}/metrics`).then((res) => res.text());
        const buffered = Number(/^un_events_buffered (\d+)$/m.exec(text)?.[1]);
        return buffered >= ids.length || undefined;
      }, { timeoutMs: 3_000, message: "the accepted tasks' events to wait in the buffer" });
      const metrics = await fetch(`${un.url}/metrics`).then((res) => res.text());
      assert.match(metrics, /^un_events_dropped_total 0$/m);

      // Room again: health clears by itself and the events reach the log.
      await admin.config("SET", "maxmemory", "0");
      const roomAt = Date.now();
      await eventually(async () => (await api(un.url, "GET", "/health")).status === 200, {
        timeoutMs: 3 * HEARTBEAT_MS + 2_000,
        intervalMs: 20,
        message: "/health ok once Redis has room",
      });
      console.log(`ok ${Date.now() - roomAt} ms after maxmemory was raised`);
      const history = await api<{ events: CloudEvent[] }>(
        un.url,
        "GET",
        "/un/events/history?type=task.queued&limit=1000",
      );
      const queued = new Set(history.body.events.map((e) => e.subject));
      for (const id of ids) assert.ok(queued.has(id), `task.queued of ${id} in the history`);
      // The accepted tasks run to the end.
      await eventually(async () => {
        const res = await api<{ events: CloudEvent[] }>(
          un.url,
          "GET",
          "/un/events/history?type=task.succeeded&limit=1000",
        );
        const done = new Set(res.body.events.map((e) => e.subject));
        return ids.every((id) => done.has(id)) || undefined;
      }, { timeoutMs: 10_000, message: "every accepted task to succeed" });
      const after = await api(un.url, "POST", "/un/tasks/create", { type: "noop" });
      assert.equal(after.status, 201, JSON.stringify(after.body));

      const stderr = un.stderrText();
      assert.equal(timesSaid(stderr, "Redis is out of memory"), 1, "said once");
      assert.match(stderr, /ERROR +\S+ +Redis is out of memory \(maxmemory 1 bytes\)/);
      assert.match(stderr, /Redis takes writes again/);
      assert.ok(!stderr.includes("events dropped"), stderr.slice(-2_000));
    } finally {
      admin.disconnect();
    }
  },
});
