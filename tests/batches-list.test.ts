/**
 * `GET /un/batches` against a real `un start`, on the embedded store and on
 * Redis: batches newest first, each as `GET /un/batches/:id` shows it, open
 * and completed apart, a page at a time through `nextCursor`, and a 400
 * naming the field for a bad state, limit, cursor or an unknown parameter.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { BatchView } from "../lib/store/types.ts";
import { assertError } from "./helpers/api.ts";
import { eventually } from "./helpers/eventually.ts";
import { api } from "./helpers/http.ts";
import { redisServerForTests, startRedis } from "./helpers/redis-server.ts";
import { REPO, startUn, type UnProcess } from "./helpers/un-process.ts";

const HANDLERS = join(REPO, "tests/fixtures/fanout-handlers.ts");
const { ignore, suffix } = redisServerForTests("batch listing");

type Page = { batches: BatchView[]; nextCursor?: string };

async function list(un: UnProcess, query = ""): Promise<Page> {
  const res = await api<Page>(un.url, "GET", `/un/batches${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

async function createBatch(un: UnProcess, id: string, tasks: unknown[]): Promise<void> {
  const created = await api(un.url, "POST", "/un/tasks/create", { tasks, batch: { id } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
}

async function listing(config: Record<string, unknown>): Promise<void> {
  await using un = await startUn({ config: { handlers: HANDLERS, ...config } });
  const child = (i: number) => ({ type: "child", payload: { i, ms: 1 } });
  await createBatch(un, "list-done", [child(1), child(2)]);
  await eventually(async () => (await list(un, "?state=completed")).batches.length === 1 || null, {
    message: "list-done to complete",
  });
  // A task due in an hour keeps its batch open for the whole test.
  await createBatch(un, "list-open", [child(3), { ...child(4), delayMs: 3_600_000 }]);
  await eventually(async () => {
    const res = await api<{ batch: BatchView }>(un.url, "GET", "/un/batches/list-open");
    return res.body.batch.counts.succeeded === 1 || null;
  }, { message: "list-open's first task to end" });

  const all = await list(un);
  assert.deepEqual(all.batches.map((b) => b.id), ["list-open", "list-done"]);
  assert.equal(all.nextCursor, undefined);
  for (const batch of all.batches) {
    const one = await api<{ batch: BatchView }>(un.url, "GET", `/un/batches/${batch.id}`);
    assert.deepEqual(batch, one.body.batch);
  }
  const done = all.batches[1];
  assert.deepEqual([done.total, done.counts, done.done], [2, { succeeded: 2 }, true]);
  assert.equal(typeof done.completedAt, "number");
  assert.deepEqual(all.batches[0].counts, { succeeded: 1, scheduled: 1 });

  assert.deepEqual((await list(un, "?state=open")).batches.map((b) => b.id), ["list-open"]);
  assert.deepEqual((await list(un, "?state=completed")).batches.map((b) => b.id), ["list-done"]);

  const first = await list(un, "?limit=1");
  assert.deepEqual(first.batches.map((b) => b.id), ["list-open"]);
  assert.ok(first.nextCursor);
  const second = await list(un, `?limit=1&cursor=${first.nextCursor}`);
  assert.deepEqual(second.batches.map((b) => b.id), ["list-done"]);
  assert.equal(second.nextCursor, undefined);

  for (
    const [query, field] of [
      ["?state=running", "state"],
      ["?limit=0", "limit"],
      ["?limit=501", "limit"],
      ["?cursor=not*a*cursor", "cursor"],
      ["?cursor=bm9wZQ", "cursor"],
    ]
  ) {
    assertError(await api(un.url, "GET", `/un/batches${query}`), 400, field);
  }
  assertError(await api(un.url, "GET", "/un/batches?page=2"), 400);
}

Deno.test("GET /un/batches: newest first, open and completed apart, paged (embedded)", () =>
  listing({}));

Deno.test({
  name: `GET /un/batches: newest first, open and completed apart, paged on Redis${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis();
    await listing({ redis: { url: redis.url } });
  },
});
