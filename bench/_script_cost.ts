import { Redis } from "ioredis";
import { RedisStore } from "../lib/store/redis.ts";
import { benchRedis } from "./redis_server.ts";
import { commandStats } from "./redis_profile.ts";

await using server = await benchRedis();
const admin = new Redis(server.url);
const store = await RedisStore.open({
  url: server.url,
  prefix: "cost:",
  mirrorEvents: { maxLen: 100000 },
});
const N = 2000;
async function phase(name: string, fn: () => Promise<void>) {
  await admin.config("RESETSTAT");
  await fn();
  const s = await commandStats(admin);
  const ev = s.evalsha ?? { calls: 0, usec: 0 };
  const inner = Object.entries(s).filter(([k]) => k !== "evalsha" && k !== "config|resetstat")
    .reduce((a, [, v]) => a + v.usec, 0);
  console.log(
    name,
    "evalsha calls",
    ev.calls,
    "usec/call",
    (ev.usec / ev.calls).toFixed(1),
    "inner usec/call",
    (inner / ev.calls).toFixed(1),
  );
}
import { newTask as mk } from "../tests/store/conformance/helpers.ts";
import { createEvent } from "../lib/events.ts";
const now = Date.now();
await phase("enqueue x1", async () => {
  for (let i = 0; i < N; i++) await store.enqueue(mk({ type: "noop" }), now);
});
const claimed: any[] = [];
await phase("claim x1", async () => {
  for (let i = 0; i < N; i++) {
    claimed.push(await store.claim({ workerId: "w", queues: null, leaseMs: 30000, now }));
  }
});
await phase("complete x1", async () => {
  for (const t of claimed) await store.complete(t.id, t.fence, { i: 1 }, now);
});
await phase("append x1", async () => {
  for (let i = 0; i < N; i++) {
    await store.appendEvents([
      createEvent({
        type: "task.started",
        source: "/un/tasks",
        data: {
          id: "x",
          type: "noop",
          queue: "default",
          state: "running",
          attempt: 1,
          maxAttempts: 3,
        },
      }),
    ]);
  }
});
await phase("ping-eval", async () => {
  for (let i = 0; i < N; i++) await admin.eval("return 1", 0);
});
await store.close();
admin.disconnect();
