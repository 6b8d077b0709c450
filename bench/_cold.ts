import { Redis } from "ioredis";
const r = new Redis("redis://127.0.0.1:6379");
const src = "for i=1,10 do redis.call('HSET', KEYS[1], 'a', ARGV[1]) end return 1";
const sha = await r.script("LOAD", src) as string;
async function stat() {
  const info = await r.info("commandstats");
  const m = info.match(/cmdstat_evalsha:calls=(\d+),usec=(\d+)/)!;
  return Number(m[2]) / Number(m[1]);
}
await r.config("RESETSTAT");
const p = r.pipeline();
for (let i = 0; i < 2000; i++) p.evalsha(sha, 1, "cold:k", "v");
await p.exec();
console.log("pipelined", (await stat()).toFixed(2));
await r.config("RESETSTAT");
for (let i = 0; i < 2000; i++) await r.evalsha(sha, 1, "cold:k", "v");
console.log("one by one", (await stat()).toFixed(2));
await r.config("RESETSTAT");
for (let i = 0; i < 500; i++) {
  await r.evalsha(sha, 1, "cold:k", "v");
  await new Promise((res) => setTimeout(res, 1));
}
console.log("one by one, 1ms apart", (await stat()).toFixed(2));
r.disconnect();
