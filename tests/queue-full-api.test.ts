/**
 * Bounded queues against a real `un start`, on the embedded store and on
 * Redis: with `queues.mail.maxSize: 100` (and no worker taking from `mail`),
 * the 101st create gets 429 with `Retry-After` and the queue's size and bound
 * in `error.details`; a hook-made task past the bound is rejected (the
 * `reject` policy): nothing is created, each refusal is a `task.rejected`
 * event and counts in `un_tasks_rejected_total{queue}`, and the log says so.
 * Without Redis the Redis case is ignored, except under CI=true, where it fails.
 */

import assert from "node:assert/strict";
import { newId } from "../lib/events/cloud-event.ts";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import type { ErrorJson } from "./helpers/api.ts";
import { eventually } from "./helpers/eventually.ts";
import { api } from "./helpers/http.ts";
import { scrape, total } from "./helpers/prometheus.ts";
import { dropPrefix, REDIS_URL, redisForTests } from "./helpers/redis-store.ts";
import { startUn } from "./helpers/un-process.ts";

const BOUND = 100;

async function boundCases(store: Record<string, unknown>): Promise<void> {
  await using un = await startUn({
    config: {
      ...store,
      queues: { mail: { maxSize: BOUND } },
      // No worker takes from `mail`: what is created stays queued.
      workers: { queues: ["other"] },
      hooks: [{ on: "app.mail", task: "noop", queue: "mail" }],
    },
  });
  for (let i = 0; i < BOUND; i++) {
    const res = await api(un.url, "POST", "/un/tasks/create", { type: "noop", queue: "mail" });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  const res = await fetch(`${un.url}/un/tasks/create`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ type: "noop", queue: "mail" }),
  });
  const body = await res.json() as ErrorJson;
  assert.equal(res.status, 429, JSON.stringify(body));
  assert.equal(res.headers.get("retry-after"), "1");
  assert.equal(body.error.code, "queue_full");
  assert.deepEqual(body.error.details, { queue: "mail", size: BOUND, maxSize: BOUND });
  // Another queue is not held back.
  const other = await api(un.url, "POST", "/un/tasks/create", { type: "noop", queue: "web" });
  assert.equal(other.status, 201);

  // Hook-made tasks past the bound: rejected, each one announced and counted.
  for (let i = 0; i < 5; i++) {
    const published = await api(un.url, "POST", "/un/events/publish", { type: "app.mail" });
    assert.equal(published.status, 202, JSON.stringify(published.body));
  }
  const rejected = await eventually(async () => {
    const history = await api<{ events: CloudEvent[] }>(
      un.url,
      "GET",
      "/un/events/history?type=task.rejected",
    );
    assert.equal(history.body.events.length, 5);
    return history.body.events;
  });
  for (const event of rejected) {
    const data = event.data as Record<string, unknown>;
    assert.equal(data.queue, "mail");
    assert.equal(data.type, "noop");
    assert.match(String(data.reason), /queue mail is full/);
  }
  assert.equal(total(await scrape(un), "un_tasks_rejected_total"), 5);
  const listed = await api<{ tasks: unknown[] }>(un.url, "GET", "/un/tasks?queue=mail&limit=500");
  assert.equal(listed.body.tasks.length, BOUND, "nothing past the bound was created");
  // One log line for the burst (rate-limited), naming the queue.
  assert.match(un.stderrText(), /queue full: hook-made tasks rejected.*mail/);
}

Deno.test("maxSize 100: the 101st create is a 429 with Retry-After; hook-made tasks are rejected and counted", async () => {
  await boundCases({});
});

const redis = await redisForTests("bounded queues over HTTP on redis");
Deno.test({
  name:
    `maxSize 100 on redis: the 101st create is a 429; hook-made tasks are rejected and counted${redis.suffix}`,
  ignore: redis.ignore,
  fn: async () => {
    const prefix = `un-test:${newId()}:`;
    try {
      await boundCases({ redis: { url: REDIS_URL, prefix } });
    } finally {
      await dropPrefix(prefix);
    }
  },
});
