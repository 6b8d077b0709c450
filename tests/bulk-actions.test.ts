/**
 * Bulk actions against a real `un start`, on the embedded store and on
 * Redis: 10 000 dead tasks retried by one request while the workers keep
 * claiming, and claims go on through the whole action (read from the
 * tasks' `startedAt`; bench/bulk-retry.ts measures the longest gap); a dry
 * run changes nothing; paging with the cursor over 5 000 tasks while tasks
 * finish returns each at most once.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Task } from "../lib/tasks/task.ts";
import { eventually } from "./helpers/eventually.ts";
import { api } from "./helpers/http.ts";
import { redisServerForTests, startRedis } from "./helpers/redis-server.ts";
import { REPO, startUn, type UnProcess } from "./helpers/un-process.ts";

const HANDLERS = join(REPO, "tests/fixtures/bulk-handlers.ts");
const { ignore, suffix } = redisServerForTests("bulk actions");

type Counts = Record<string, Record<string, number>>;

async function counts(un: UnProcess, queue: string): Promise<Record<string, number>> {
  const { body } = await api<{ queues: Counts }>(un.url, "GET", "/un/queues");
  return body.queues[queue] ?? {};
}

/** Creates `n` tasks of one request shape, 1 000 per batch request. */
async function createMany(un: UnProcess, n: number, request: Record<string, unknown>) {
  for (let made = 0; made < n; made += 1_000) {
    const tasks = Array.from({ length: Math.min(1_000, n - made) }, () => request);
    const res = await api(un.url, "POST", "/un/tasks/create", { tasks });
    assert.equal(res.status, 201, JSON.stringify(res.body).slice(0, 300));
  }
}

/** Every task of a filter, page by page with the cursor. */
async function everyTask(
  un: UnProcess,
  query: string,
  between?: () => Promise<void>,
): Promise<Task[]> {
  const out: Task[] = [];
  let cursor = "";
  for (;;) {
    const path = `/un/tasks?limit=1000&${query}${cursor ? `&cursor=${cursor}` : ""}`;
    const res = await api<{ tasks: Task[]; nextCursor?: string }>(un.url, "GET", path);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    out.push(...res.body.tasks);
    if (!res.body.nextCursor) return out;
    cursor = res.body.nextCursor;
    await between?.();
  }
}

async function retryWhileClaiming(config: Record<string, unknown>): Promise<void> {
  await using un = await startUn({
    config: { handlers: HANDLERS, workers: { concurrency: 4 }, ...config },
    readyTimeoutMs: 60_000,
  });
  await createMany(un, 10_000, { type: "doomed", queue: "doomed", maxAttempts: 1 });
  await eventually(async () => (await counts(un, "doomed")).dead === 10_000 || null, {
    timeoutMs: 120_000,
    intervalMs: 250,
    message: "10 000 dead tasks",
  });

  const dry = await api<{ matched: number; changed: number }>(un.url, "POST", "/un/tasks/bulk", {
    action: "retry",
    filter: { state: "dead", queue: "doomed" },
    dryRun: true,
  });
  assert.deepEqual(dry.body, { matched: 10_000, changed: 0 });
  assert.equal((await counts(un, "doomed")).dead, 10_000, "a dry run changes nothing");

  // Work that keeps every worker claiming through the bulk retry.
  await createMany(un, 3_000, { type: "busy", queue: "busy", payload: { ms: 5 } });
  await new Promise((r) => setTimeout(r, 300));
  const from = Date.now();
  const res = await api<{ matched: number; changed: number }>(un.url, "POST", "/un/tasks/bulk", {
    action: "retry",
    filter: { state: "dead", queue: "doomed" },
  });
  const until = Date.now();
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(res.body, { matched: 10_000, changed: 10_000 });

  // The retried tasks run again (and die again): every one was queued.
  await eventually(async () => (await counts(un, "doomed")).dead === 10_000 || null, {
    timeoutMs: 120_000,
    intervalMs: 250,
    message: "the retried tasks to run and end dead again",
  });
  const starts = (await everyTask(un, "queue=busy")).concat(await everyTask(un, "queue=doomed"))
    .map((t) => t.startedAt)
    .filter((at): at is number => at !== null && at >= from && at <= until)
    .sort((a, b) => a - b);
  assert.ok(starts.length > 50, `claims during the bulk retry: ${starts.length}`);
  // Claims went on through the whole action, not only before or after it:
  // some in its first quarter and some in its last. (How smoothly, as the
  // longest gap between claims, is measured by bench/bulk-retry.ts.)
  const quarter = (until - from) / 4;
  assert.ok(starts.some((at) => at <= from + quarter), "claims in the first quarter");
  assert.ok(starts.some((at) => at >= until - quarter), "claims in the last quarter");
}

Deno.test("bulk: 10 000 dead tasks retried in one request while workers claim (embedded)", () =>
  retryWhileClaiming({}));

Deno.test({
  name: `bulk: 10 000 dead tasks retried in one request while workers claim (redis)${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis();
    await retryWhileClaiming({ redis: { url: redis.url } });
  },
});

async function pageWhileFinishing(config: Record<string, unknown>): Promise<void> {
  await using un = await startUn({
    config: { handlers: HANDLERS, workers: { concurrency: 4 }, ...config },
    readyTimeoutMs: 60_000,
  });
  await createMany(un, 5_000, { type: "busy", queue: "paged", payload: { ms: 1 } });
  let finished = 0;
  const seen = await everyTask(un, "queue=paged", async () => {
    finished = (await counts(un, "paged")).succeeded ?? 0;
  });
  assert.ok(finished > 0, "tasks finished while paging");
  assert.equal(seen.length, 5_000);
  assert.equal(new Set(seen.map((t) => t.id)).size, 5_000);
}

Deno.test("tasks: the cursor over 5 000 tasks returns each once while tasks finish (embedded)", () =>
  pageWhileFinishing({}));

Deno.test({
  name: `tasks: the cursor over 5 000 tasks returns each once while tasks finish (redis)${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis();
    await pageWhileFinishing({ redis: { url: redis.url } });
  },
});
