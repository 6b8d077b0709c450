import { RedisStore } from "../lib/store/redis.ts";
import { ask } from "../lib/messages.ts";
import { benchRuntime } from "./harness.ts";
import { benchRedis, uniquePrefix } from "./redis_server.ts";
import { startWorkers } from "./redis_workers.ts";
await using redis = await benchRedis();
const prefix = uniquePrefix("gaps");
const api = await benchRuntime({ redis: { url: redis.url, prefix } }, "api");
const requests = Array.from(
  { length: 2000 },
  (_, i) => ({ type: "sleep", payload: { ms: 20, i } }),
);
await ask(
  (m) => api.runtime.send(m),
  (reply) => ({ type: "task.enqueueMany", requests, reply }),
  60_000,
);
await api.cleanup();
const store = await RedisStore.open({ url: redis.url, prefix });
{
  await using _w = await startWorkers(1, {
    redis: { url: redis.url, prefix },
    workers: { concurrency: 16 },
  });
  for (;;) {
    const c = (await store.queueCounts()).default;
    if ((c?.succeeded ?? 0) >= 2000) break;
    await new Promise((r) => setTimeout(r, 50));
  }
}
const tasks = await store.listTasks({ state: "succeeded", limit: 2000 });
const byWorker = new Map<string, typeof tasks>();
for (const t of tasks) {
  const l = byWorker.get(t.workerId!) ?? [];
  l.push(t);
  byWorker.set(t.workerId!, l);
}
const gaps: number[] = [], runs: number[] = [], waits: number[] = [];
for (const list of byWorker.values()) {
  list.sort((a, b) => a.startedAt! - b.startedAt!);
  for (let i = 0; i < list.length; i++) {
    runs.push(list[i].finishedAt! - list[i].startedAt!);
    if (i > 0) gaps.push(list[i].startedAt! - list[i - 1].finishedAt!);
  }
}
const med = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return `p50 ${s[Math.floor(s.length / 2)]} p90 ${s[Math.floor(s.length * 0.9)]} mean ${
    (a.reduce((x, y) => x + y, 0) / a.length).toFixed(2)
  }`;
};
console.log("run (startedAt→finishedAt)", med(runs));
console.log("gap (finishedAt→next startedAt)", med(gaps));
await store.close();
