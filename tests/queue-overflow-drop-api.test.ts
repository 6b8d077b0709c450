/**
 * Drop policies against a real `un start`, on the embedded store and on
 * Redis: with `queues.mail: { maxSize: 5, overflow: "drop-oldest" }` (and no
 * worker taking from it), a create over the API past the bound still gets 429,
 * while each hook-made task past it is created and the oldest queued task is
 * cancelled to make room: a `task.dropped` event naming it and the task that
 * took its place, `un_tasks_dropped_total{queue}`, a log line. Under
 * `drop-lowest-priority` the lowest-priority queued task goes first.
 * Without Redis the Redis case is ignored, except under CI=true, where it fails.
 */

import assert from "node:assert/strict";
import { newId } from "../lib/events/cloud-event.ts";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import type { Task } from "../lib/tasks/task.ts";
import { eventually } from "./helpers/eventually.ts";
import { api } from "./helpers/http.ts";
import { scrape, total } from "./helpers/prometheus.ts";
import { dropPrefix, REDIS_URL, redisForTests } from "./helpers/redis-store.ts";
import { startUn } from "./helpers/un-process.ts";

const BOUND = 5;

async function create(url: string, queue: string, priority?: number): Promise<Task> {
  const res = await api<{ task: Task }>(url, "POST", "/un/tasks/create", {
    type: "noop",
    queue,
    ...(priority === undefined ? {} : { priority }),
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.task;
}

async function droppedEvents(url: string, n: number): Promise<Record<string, unknown>[]> {
  return await eventually(async () => {
    const history = await api<{ events: CloudEvent[] }>(
      url,
      "GET",
      "/un/events/history?type=task.dropped",
    );
    assert.equal(history.body.events.length, n);
    return history.body.events.map((event) => event.data as Record<string, unknown>);
  });
}

async function dropCases(store: Record<string, unknown>): Promise<void> {
  await using un = await startUn({
    config: {
      ...store,
      queues: {
        mail: { maxSize: BOUND, overflow: "drop-oldest" },
        news: { maxSize: 2, overflow: "drop-lowest-priority" },
      },
      // No worker takes from them: what is created stays queued.
      workers: { queues: ["other"] },
      hooks: [
        { on: "app.mail", task: "noop", queue: "mail" },
        { on: "app.news", task: "noop", queue: "news" },
      ],
    },
  });
  const first: Task[] = [];
  for (let i = 0; i < BOUND; i++) first.push(await create(un.url, "mail"));
  // The API still refuses: a caller gets its 429 and decides.
  const refused = await api(un.url, "POST", "/un/tasks/create", { type: "noop", queue: "mail" });
  assert.equal(refused.status, 429);

  // Three hook-made tasks past the bound: each drops the oldest queued one.
  for (let i = 0; i < 3; i++) {
    const published = await api(un.url, "POST", "/un/events/publish", { type: "app.mail" });
    assert.equal(published.status, 202, JSON.stringify(published.body));
    await droppedEvents(un.url, i + 1); // one at a time, so the oldest is known
  }
  const dropped = await droppedEvents(un.url, 3);
  assert.deepEqual(dropped.map((d) => d.id).sort(), first.slice(0, 3).map((t) => t.id).sort());
  const mail = await api<{ tasks: Task[] }>(un.url, "GET", "/un/tasks?queue=mail&limit=50");
  const queued = mail.body.tasks.filter((t) => t.state === "queued").map((t) => t.id);
  assert.equal(queued.length, BOUND, "the queue stays at its bound");
  for (const data of dropped) {
    assert.equal(data.queue, "mail");
    assert.equal(data.type, "noop");
    assert.match(String(data.reason), /drop-oldest/);
    assert.ok(queued.includes(String(data.by)), "by names a task that took the place");
    const { task } = (await api<{ task: Task }>(un.url, "GET", `/un/tasks/${data.id}`)).body;
    assert.equal(task.state, "cancelled");
    assert.match(task.error?.message ?? "", /drop-oldest/);
  }

  // drop-lowest-priority: of a 9 and a 1, the 1 goes.
  const high = await create(un.url, "news", 9);
  const low = await create(un.url, "news", 1);
  await api(un.url, "POST", "/un/events/publish", { type: "app.news" });
  const news = (await droppedEvents(un.url, 4)).find((d) => d.queue === "news");
  assert.equal(news?.id, low.id);
  assert.match(String(news?.reason), /drop-lowest-priority/);
  const kept = await api<{ task: Task }>(un.url, "GET", `/un/tasks/${high.id}`);
  assert.equal(kept.body.task.state, "queued");

  assert.equal(total(await scrape(un), "un_tasks_dropped_total"), 4);
  assert.equal(total(await scrape(un), "un_tasks_rejected_total"), 0);
  assert.match(un.stderrText(), /queue full: queued tasks dropped.*mail/);
}

Deno.test("overflow drop-oldest / drop-lowest-priority: hook-made tasks make room, each drop announced and counted", async () => {
  await dropCases({});
});

const redis = await redisForTests("drop policies over HTTP on redis");
Deno.test({
  name:
    `overflow drop policies on redis: hook-made tasks make room, each drop announced and counted${redis.suffix}`,
  ignore: redis.ignore,
  fn: async () => {
    const prefix = `un-test:${newId()}:`;
    try {
      await dropCases({ redis: { url: REDIS_URL, prefix } });
    } finally {
      await dropPrefix(prefix);
    }
  },
});
