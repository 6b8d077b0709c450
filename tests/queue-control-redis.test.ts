/**
 * Pause and rate limits across real `un start` processes on one private
 * Redis: two processes agree on a pause (and `un_queue_paused` shows it); a
 * limit of 10 per second holds exactly across 4 processes of 8 workers; a
 * per-key limit holds one key back without slowing the others; a task held
 * by a limit says "rate limited until <time>", for a limit by group key with
 * its own group's window.
 *
 * Needs `redis-server` (a private one per test, from `startRedis()`); without
 * it the tests are ignored, except under `CI=true` where they fail.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import type { Task } from "../lib/tasks/task.ts";
import type { WhyAnswer } from "../lib/tasks/why.ts";
import { createTask, taskState } from "./helpers/api.ts";
import { history } from "./helpers/events.ts";
import { eventually } from "./helpers/eventually.ts";
import { api } from "./helpers/http.ts";
import { redisServerForTests, startRedis } from "./helpers/redis-server.ts";
import { processId, REPO, startMany, type UnProcess } from "./helpers/un-process.ts";

const { ignore, suffix } = redisServerForTests("queue control on redis");
const HANDLERS = join(REPO, "tests/fixtures/bulk-handlers.ts");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates `requests` as one batch (201 required). */
async function createBatch(un: UnProcess, requests: Record<string, unknown>[]): Promise<Task[]> {
  const res = await api<{ tasks: Task[] }>(un.url, "POST", "/un/tasks/create", {
    tasks: requests,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.tasks;
}

/** Every task of `queue`, read through `GET /un/tasks` page by page with the cursor. */
async function tasksOf(un: UnProcess, queue: string): Promise<Task[]> {
  const all: Task[] = [];
  let cursor: string | undefined;
  do {
    const query = `queue=${queue}&limit=100${
      cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""
    }`;
    const res = await api<{ tasks: Task[]; nextCursor?: string }>(
      un.url,
      "GET",
      `/un/tasks?${query}`,
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    all.push(...res.body.tasks);
    cursor = res.body.nextCursor;
  } while (cursor !== undefined);
  return all;
}

/** The value of `un_queue_paused{queue}` on `un`'s `/metrics`, or null when absent. */
async function pausedGauge(un: UnProcess, queue: string): Promise<number | null> {
  const res = await fetch(`${un.url}/metrics`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const match = new RegExp(`^un_queue_paused\\{queue="${queue}"\\} (\\S+)$`, "m").exec(text);
  return match === null ? null : Number(match[1]);
}

async function allSucceeded(un: UnProcess, tasks: Task[]): Promise<true | null> {
  const states = await Promise.all(tasks.map(async (t) => (await taskState(un, t.id)).state));
  return states.every((s) => s === "succeeded") || null;
}

async function why(un: UnProcess, id: string): Promise<WhyAnswer> {
  const res = await api<{ why: WhyAnswer }>(un.url, "GET", `/un/tasks/${id}/why`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.why;
}

Deno.test({
  name: `queue control on redis: two processes agree on a pause${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis({ persistence: false });
    const base = { redis: { url: redis.url }, handlers: HANDLERS };
    // Only B takes the free queue, so "another queue runs" happens on B.
    await using group = await startMany([
      { config: { ...base, workers: { concurrency: 2, queues: ["held"] } } },
      { config: { ...base, workers: { concurrency: 2 } } },
    ]);
    const [a, b] = group.procs;
    const paused = await api(a.url, "POST", "/un/queues/held/pause");
    assert.deepEqual(paused.body, { queue: "held", paused: true, changed: true });

    const busy = (queue: string, ms: number) => ({ type: "busy", queue, payload: { ms } });
    const held = await createBatch(a, Array.from({ length: 8 }, () => busy("held", 400)));
    const pausedAt = Date.now();
    const free = await createBatch(b, Array.from({ length: 4 }, () => busy("free", 1)));
    await eventually(() => allSucceeded(b, free), { message: "the free queue ran on B" });
    await sleep(Math.max(0, pausedAt + 2_000 - Date.now()));
    for (const t of held) assert.equal((await taskState(b, t.id)).state, "queued");
    const view = await api<{ control: Record<string, { paused: boolean }> }>(
      b.url,
      "GET",
      "/un/queues",
    );
    assert.equal(view.body.control.held?.paused, true, "B sees A's pause");
    assert.equal(await pausedGauge(a, "held"), 1);

    const resumed = await api(b.url, "POST", "/un/queues/held/resume");
    assert.deepEqual(resumed.body, { queue: "held", paused: false, changed: true });
    await eventually(() => allSucceeded(a, held), {
      timeoutMs: 10_000,
      message: "the resumed queue drained",
    });
    // Both processes took part in the drain (each has 2 workers; 8 tasks of 400 ms).
    const heldIds = new Set(held.map((t) => t.id));
    const started = (await history(a, "task.started")).filter((e: CloudEvent) =>
      heldIds.has(String((e.data as { id?: string } | undefined)?.id))
    );
    const origins = new Set(started.map((e) => e.origin));
    assert.deepEqual(origins, new Set([await processId(a), await processId(b)]));
    assert.equal(await pausedGauge(a, "held"), 0);
  },
});

Deno.test({
  name: `queue control on redis: 10 per second holds across 4 processes of 8 workers${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis({ persistence: false });
    const config = {
      redis: { url: redis.url },
      handlers: HANDLERS,
      workers: { concurrency: 8 },
      queues: { limited: { rateLimit: { max: 10, perMs: 1_000 } } },
    };
    await using group = await startMany(Array.from({ length: 4 }, () => ({ config })));
    const procs = group.procs;
    // 200 tasks, created through every process: far more than 5 s of the limit.
    const request = { type: "busy", queue: "limited", payload: { ms: 1 } };
    await Promise.all(procs.map((p) => createBatch(p, Array.from({ length: 50 }, () => request))));
    const firstStart = await eventually(async () => {
      const started = (await tasksOf(procs[0], "limited")).filter((t) => t.startedAt !== null);
      return started.length > 0 ? Math.min(...started.map((t) => t.startedAt!)) : null;
    }, { message: "a first start" });
    await sleep(Math.max(0, firstStart + 6_000 - Date.now()));

    const starts = (await tasksOf(procs[1], "limited"))
      .flatMap((t) => t.startedAt === null ? [] : [t.startedAt])
      .sort((x, y) => x - y);
    // The most starts in any 5 s span: each span begins at a start.
    let most = 0;
    for (let i = 0, j = 0; i < starts.length; i++) {
      while (j < starts.length && starts[j] < starts[i] + 5_000) j++;
      most = Math.max(most, j - i);
    }
    const inFirst = starts.filter((s) => s < firstStart + 5_000).length;
    console.log(
      `${starts.length} started in ${starts.at(-1)! - starts[0]}ms; ` +
        `${inFirst} in the first 5 s; at most ${most} in any 5 s`,
    );
    assert.ok(most <= 60, `${most} tasks started within 5 s (limit 10/s: at most 50 + 10)`);
    // Not a speed figure, only that the limit was reached (the bound above was not vacuous).
    assert.ok(inFirst >= 40, `only ${inFirst} started in the first 5 s`);
  },
});

Deno.test({
  name: `queue control on redis: a per-key limit holds key A, not the other keys${suffix}`,
  ignore,
  async fn(t) {
    await using redis = await startRedis({ persistence: false });
    const hour = 3_600_000;
    const config = {
      redis: { url: redis.url },
      handlers: HANDLERS,
      workers: { concurrency: 4 },
      queues: {
        keyed: { rateLimit: { max: 1, perMs: 1_000, by: "{payload.key}" } },
        hourly: { rateLimit: { max: 1, perMs: hour, by: "{payload.key}" } },
        flat: { rateLimit: { max: 1, perMs: hour } },
      },
    };
    await using group = await startMany([{ config }, { config }]);
    const [a, b] = group.procs;

    await t.step("key A starts one per second; the others at once", async () => {
      const task = (key: string, priority: number) => ({
        type: "busy",
        queue: "keyed",
        priority,
        payload: { ms: 1, key },
      });
      const createdAt = Date.now();
      // Key A's tasks go first in line: were its limit to block the queue, the others would wait.
      const keyA = await createBatch(a, Array.from({ length: 4 }, () => task("A", 9)));
      const others = await createBatch(b, ["B", "C", "D"].map((key) => task(key, 1)));
      await eventually(() => allSucceeded(a, [...keyA, ...others]), {
        timeoutMs: 10_000,
        message: "every keyed task ran",
      });
      const startsOf = async (tasks: Task[]) =>
        (await Promise.all(tasks.map((t) => taskState(b, t.id)))).map((t) => t.startedAt!);
      const startsA = (await startsOf(keyA)).sort((x, y) => x - y);
      const startsOthers = await startsOf(others);
      console.log(
        `key A started at +${startsA.map((s) => s - createdAt).join(", +")}ms; ` +
          `B, C, D at +${startsOthers.map((s) => s - createdAt).join(", +")}ms`,
      );
      // One start of key A per window of 1 s.
      const windows = startsA.map((s) => Math.floor(s / 1_000));
      assert.equal(new Set(windows).size, 4, `key A started in windows ${windows.join()}`);
      assert.ok(startsA[3] - startsA[0] > 2_000, `key A took ${startsA[3] - startsA[0]}ms`);
      for (const s of startsOthers) {
        assert.ok(s - createdAt < 1_500, `a task of another key started ${s - createdAt}ms in`);
      }
    });

    await t.step("a task held by its group's limit says rate limited until <time>", async () => {
      const task = (key: string) => ({ type: "busy", queue: "hourly", payload: { ms: 1, key } });
      const first = await createTask(a, task("A"));
      await eventually(async () => (await taskState(a, first.id)).state === "succeeded" || null);
      const second = await createTask(a, task("A"));
      const answer = await why(b, second.id);
      const until = (Math.floor(Date.now() / hour) + 1) * hour;
      assert.deepEqual(answer.holds.map((h) => h.kind), ["rateLimited"], answer.summary);
      assert.equal(answer.holds[0].until, until);
      assert.match(answer.holds[0].message, /rate limited until \d{4}-\d\d-\d\dT/);
      assert.match(answer.holds[0].message, /group "A"/);
      // Another key's window is its own: its task runs at once, though A's window is full.
      const other = await createTask(b, task("B"));
      await eventually(async () => (await taskState(b, other.id)).state === "succeeded" || null);
      // A task of key B now waits for B's window, and says so with B's own count.
      const next = await createTask(b, task("B"));
      const held = await why(a, next.id);
      assert.deepEqual(held.holds.map((h) => h.kind), ["rateLimited"], held.summary);
      assert.match(held.holds[0].message, /group "B".*1 started this window/);
      assert.equal((await taskState(a, second.id)).state, "queued");
    });

    await t.step("a queue-wide limit on redis says rate limited until <time>", async () => {
      const task = { type: "busy", queue: "flat", payload: { ms: 1 } };
      const first = await createTask(a, task);
      await eventually(async () => (await taskState(a, first.id)).state === "succeeded" || null);
      const second = await createTask(b, task);
      const answer = await why(a, second.id);
      assert.deepEqual(answer.holds.map((h) => h.kind), ["rateLimited"], answer.summary);
      assert.equal(answer.holds[0].until, (Math.floor(Date.now() / hour) + 1) * hour);
      assert.match(answer.summary, /rate limited until \d{4}-/);
    });
  },
});
