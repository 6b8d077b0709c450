import { unScaleoutPoint } from "./redis_un.ts";
import { benchRedis } from "./redis_server.ts";
await using redis = await benchRedis();
const out: Record<string, unknown> = {};
for (const n of (Deno.args[0] ?? "1,4").split(",").map(Number)) {
  const r = await unScaleoutPoint(redis.url, redis.pid, n, 4000 * n, 16, 20);
  out[n] = r;
  console.log(n, JSON.stringify(r));
}
