/**
 * A sampled run-time hook counts its matching events in the store, shared by
 * every process: on Redis, with two processes routing events through the
 * bridge's consumer group, `sample: {every: 3}` over 9 events published half
 * through each makes exactly 3 tasks; a change of the hook (PATCH) starts the
 * count again. The processes start without hooks, so the first hook arrives
 * while their stream reads wait with nothing to apply (no event is lost then).
 */

import assert from "node:assert/strict";
import type { HookView } from "../lib/hooks/manage.ts";
import { eventually } from "./helpers/eventually.ts";
import { api } from "./helpers/http.ts";
import { dropPrefix, REDIS_URL, redisForTests } from "./helpers/redis-store.ts";
import { startUn, type UnProcess } from "./helpers/un-process.ts";

/** How many `noop` tasks the store holds. */
async function noops(un: UnProcess): Promise<number> {
  const res = await api<{ tasks: unknown[] }>(un.url, "GET", "/un/tasks?type=noop&limit=1000");
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.tasks.length;
}

/** Publishes `count` matching events, alternating between the two processes. */
async function publish(a: UnProcess, b: UnProcess, count: number): Promise<void> {
  for (let n = 0; n < count; n++) {
    const un = n % 2 === 0 ? a : b;
    const res = await api(un.url, "POST", "/un/events/publish", {
      type: "sample.item",
      data: { n },
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
  }
}

/** Waits for `want` tasks, then checks no more come a moment later. */
async function exactly(un: UnProcess, want: number): Promise<void> {
  await eventually(async () => (await noops(un)) >= want, {
    timeoutMs: 10_000,
    message: `${want} noop tasks`,
  });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await noops(un), want);
}

const redisTests = await redisForTests("sampled hooks on Redis");

Deno.test({
  name:
    `hook sample on Redis: every 3rd of 9 events spread over two processes, exactly 3 tasks${redisTests.suffix}`,
  ignore: redisTests.ignore,
  async fn() {
    const prefix = `un-test:${crypto.randomUUID()}:`;
    const config = { redis: { url: REDIS_URL, prefix }, hooks: [] };
    try {
      await using first = await startUn({ config });
      await using second = await startUn({ config });
      const res = await api<{ hook: HookView }>(first.url, "POST", "/un/hooks", {
        on: "sample.item",
        task: "noop",
        sample: { every: 3 },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const id = res.body.hook.id;
      await eventually(async () => {
        const list = await api<{ hooks: HookView[] }>(second.url, "GET", "/un/hooks");
        return list.body.hooks.some((h) => h.id === id);
      }, { message: "the second process lists the hook" });
      // Both reload their hooks on `hook.created` (through the bridge).
      await new Promise((r) => setTimeout(r, 300));

      await publish(first, second, 9);
      await exactly(first, 3);

      // One more match (1 of 3), then a change: the count starts again from 0, so of
      // 3 more matches only the 2nd fires (carried on, the 1st and the 3rd would).
      await publish(first, second, 1);
      await new Promise((r) => setTimeout(r, 300));
      const patched = await api(second.url, "PATCH", `/un/hooks/${id}`, { sample: { every: 2 } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      await new Promise((r) => setTimeout(r, 300));
      await publish(second, first, 3);
      await exactly(second, 4);
    } finally {
      await dropPrefix(prefix);
    }
  },
});
