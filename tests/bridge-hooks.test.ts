/**
 * The hooks' consumer group of the Redis bridge, black-box: entries a killed
 * consumer read but never acknowledged are reclaimed by another process
 * (`XAUTOCLAIM`) and applied once, and a process without hooks still consumes
 * its share of the stream, so nothing piles up pending.
 *
 * Needs `redis-server` (a private one per test, from `startRedis()`); without
 * it the tests are ignored, except under `CI=true` where they fail.
 */

import assert from "node:assert/strict";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import {
  assertOneTaskPerEvent,
  bridgeTest,
  memberConfig,
  noopTasks,
  pendingOf,
  withAdmin,
} from "./helpers/bridge.ts";
import { publish } from "./helpers/events.ts";
import { processId, startMany, startUn, type UnProcess } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

bridgeTest(
  "entries a killed consumer read but never acknowledged are reclaimed and applied once",
  async (redis) => {
    // A reads and drops (no-ack); its own idle limit is far away, so only B can reclaim.
    const a = await startUn({
      config: memberConfig(redis, { streamMinIdleMs: 600_000 }),
      env: { UN_FAULTS: "no-ack" },
    });
    let b: UnProcess | null = null;
    try {
      const aId = await processId(a);
      const events: CloudEvent[] = [];
      for (let i = 0; i < 8; i++) events.push(await publish(a, "x.lost", { i }));
      const pending = await eventually(async () => {
        const p = await pendingOf(redis);
        return p.count === events.length && p;
      }, { timeoutMs: 10_000, message: "A to read every entry without acknowledging it" });
      assert.deepEqual([...pending.consumers], [[aId, events.length]]);
      assert.equal((await noopTasks(a)).length, 0, "A applied nothing");
      await a.kill();

      b = await startUn({ config: memberConfig(redis, { streamMinIdleMs: 300 }) });
      const tasks = await eventually(async () => {
        const t = await noopTasks(b!);
        return t.length >= events.length && t;
      }, { timeoutMs: 10_000, message: "B to reclaim and apply A's entries" });
      await eventually(async () => (await pendingOf(redis)).count === 0, {
        timeoutMs: 5_000,
        message: "acks",
      });
      await new Promise((r) => setTimeout(r, 1_000));
      assertOneTaskPerEvent(await noopTasks(b), events);
      assert.equal(tasks.length, events.length);
      assert.match(b.stderrText(), /took over stream entries/);
    } finally {
      await b?.[Symbol.asyncDispose]();
      await a[Symbol.asyncDispose]();
    }
  },
);

bridgeTest(
  "a process without hooks still consumes the stream; nothing piles up pending",
  async (redis) => {
    const config = { ...memberConfig(redis), hooks: [] };
    await using c = await startMany([{ config }]);
    const [a] = c.procs;
    for (let i = 0; i < 5; i++) await publish(a, "x.unhooked", { i });
    const group = () =>
      withAdmin(redis, async (admin) => {
        const groups = await admin.xinfo("GROUPS", "bridge-test:events:stream") as unknown[][];
        const info = Object.fromEntries(
          (groups[0] ?? []).flatMap((v, i, all) => i % 2 === 0 ? [[String(v), all[i + 1]]] : []),
        );
        return { pending: Number(info.pending), lag: Number(info.lag) };
      });
    await eventually(async () => (await group()).lag === 0, {
      timeoutMs: 10_000,
      message: "every entry read",
    });
    assert.equal((await group()).pending, 0, "nothing left pending");
    assert.equal((await noopTasks(a)).length, 0);
  },
);
