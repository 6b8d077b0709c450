/**
 * `deno task bench`: runs each benchmark in its own process (so one's heap and
 * timers do not skew another), with the flags `un start` runs with (the
 * benchmarks run the runtime in that process), and prints all figures as JSON
 * on the last line. `--redis` adds the Redis benchmarks (they need a Redis,
 * see bench/redis.ts); `--fanout` the fan-out one (bench/fanout.ts, embedded and
 * Redis).
 */

import { START_FLAGS } from "../cli/start-flags.ts";

const here = new URL(".", import.meta.url).pathname;
const benches = [
  "events.ts",
  "embedded-tasks.ts",
  "rate-limited-tasks.ts", // the same workload with a rate limit never reached
  "file-latency.ts",
  "idle-rss.ts",
  "queued-rss.ts",
  "bulk-retry.ts",
];
if (Deno.args.includes("--redis")) benches.push("redis.ts");
if (Deno.args.includes("--bridge")) benches.push("bridge.ts"); // live delivery: interest gate vs XREAD tailing
if (Deno.args.includes("--fanout")) benches.push("fanout.ts"); // a 5 000-child fan-out and wait
if (Deno.args.includes("--prioritizer")) benches.push("prioritizer.ts"); // learned vs FIFO vs static waits

const figures: Record<string, unknown> = {};
for (const file of benches) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...START_FLAGS, here + file, ...Deno.args.filter((a) => a !== "--redis")],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  if (out.code !== 0) {
    console.error(`bench ${file} failed (exit ${out.code})`);
    figures[file.replace(".ts", "_error")] = `exit ${out.code}`;
    continue;
  }
  const result = JSON.parse(lines.at(-1)!);
  console.error(`${file}: ${JSON.stringify(result)}`);
  Object.assign(figures, result);
}
console.log(JSON.stringify(figures));
