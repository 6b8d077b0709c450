import { Redis } from "ioredis";
import { unScaleoutPoint } from "./redis_un.ts";
import { benchRedis } from "./redis_server.ts";
import { commandStats } from "./redis_profile.ts";
await using redis = await benchRedis();
const admin = new Redis(redis.url);
const r = await unScaleoutPoint(redis.url, redis.pid, 1, 4000, 16, 20);
await admin.config("RESETSTAT");
const r2 = await unScaleoutPoint(redis.url, redis.pid, 1, 4000, 16, 20);
const stats = await commandStats(admin);
admin.disconnect();
console.log(JSON.stringify(r), JSON.stringify(r2));
for (const [k, v] of Object.entries(stats).sort((a, b) => b[1].calls - a[1].calls).slice(0, 20)) {
  console.log(k, (v.calls / 4000).toFixed(2), "calls/task", (v.usec / 4000).toFixed(1), "us/task");
}
