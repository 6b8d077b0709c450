/**
 * `deno task bench -- --bridge` (or `deno run -A bench/bridge.ts`): live
 * delivery of events across processes on Redis, two designs side by side on
 * one private redis-server (or `UN_BENCH_REDIS_URL`), interleaved so the
 * machine's noise hits both alike.
 *
 * - `gate`: the bridge as it is: the event log's append publishes each batch
 *   on pub/sub, only the types some process follows (the interest hash, read
 *   by the publisher's gate), and each process `PSUBSCRIBE`s the patterns it
 *   follows (lib/store/redis/bridge/broadcast.ts, with its replay).
 * - `plain`: the append only writes the stream, and every process tails it
 *   with `XREAD BLOCK`, skipping by the entry's types field what it does not
 *   follow (no interest hash, no pub/sub, no replay).
 *
 * One publisher (this process, the real Redis store's append) and N = 1 and 4
 * subscriber processes (this file again, `--subscriber`). Workloads:
 * - `followed`: 20 000 events of a followed type, batches of 10, 8 appends in
 *   flight: events/s until every subscriber has them all;
 * - `paced`: 2 000 followed events, one per append, at 500/s: delivery latency p50/p99;
 * - `unfollowed`: 20 000 events, 9 in 10 of types nobody follows (task
 *   lifecycle), batches of 10, 8 appends in flight: what the gate exists for;
 * - `quiet`: the same mix paced like `paced` (2 000 events, one per append,
 *   500/s): a cluster going about its work, where most appends carry
 *   nothing anyone follows.
 * Each reports Redis CPU (`INFO cpu`), commands (`INFO commandstats`) and
 * bytes sent (`INFO stats`) per event, and the subscribers' CPU per event.
 * The hooks' consumer group is the same in both designs and is left out.
 * Prints the figures as JSON on the last line.
 */

import { Redis } from "ioredis";
import { type CloudEvent, createEvent } from "../lib/events/cloud-event.ts";
import { compilePattern } from "../lib/events/wildcard.ts";
import { silentLogger } from "../lib/log.ts";
import { listen } from "../lib/store/redis/bridge/broadcast.ts";
import { openConnection, whenReady } from "../lib/store/redis/bridge/connections.ts";
import { bridgeKeys } from "../lib/store/redis/bridge/keys.ts";
import { SeenIds } from "../lib/store/redis/bridge/seen.ts";
import { decodeEvents, mayHold, readGroupEntries } from "../lib/store/redis/bridge/wire.ts";
import { RedisStore } from "../lib/store/redis/store.ts";
import { processCpuSeconds } from "./redis-cpu.ts";
import { benchRedis, uniquePrefix } from "./redis-server.ts";

type Design = "gate" | "plain";
type Workload = "followed" | "paced" | "unfollowed" | "quiet";

interface SubscriberSpec {
  design: Design;
  url: string;
  prefix: string;
  patterns: string[];
}

/** What a subscriber reports when it has the end marker. */
interface SubscriberResult {
  received: number;
  lastAt: number;
  cpuS: number;
  latencies: number[];
}

const nowMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Tails the stream with XREAD BLOCK: the plain design's whole receiving side. */
function tail(spec: SubscriberSpec, self: string, deliver: (e: CloudEvent) => void): () => void {
  const reader = openConnection(spec.url, "reader");
  const stream = bridgeKeys(spec.prefix).stream;
  const matchers = spec.patterns.map(compilePattern);
  const wants = (type: string) => matchers.some((m) => m(type));
  const seen = new SeenIds(600_000, 100_000);
  const stopping = new AbortController();
  const read: (string | number)[] = ["COUNT", 200, "BLOCK", 5_000, "STREAMS", stream];
  void (async () => {
    let last = "$";
    while (!stopping.signal.aborted) {
      await whenReady(reader, stopping.signal);
      const reply = await reader.callBuffer("XREAD", ...read, last).catch(() =>
        sleep(100).then(() => null)
      );
      for (const entry of readGroupEntries(reply)) {
        last = entry.id;
        if (!mayHold(entry, wants)) continue;
        for (const event of decodeEvents(entry.payload!)) {
          if (event.origin === self || !wants(event.type)) continue;
          if (seen.firstTime(event.id, Date.now())) deliver(event);
        }
      }
    }
  })();
  return () => {
    stopping.abort();
    reader.disconnect();
  };
}

function subscribeGate(spec: SubscriberSpec, self: string, deliver: (e: CloudEvent) => void) {
  const sub = openConnection(spec.url, "subscriber");
  const history = openConnection(spec.url, "writer");
  const matchers = spec.patterns.map(compilePattern);
  const stop = listen(sub, {
    keys: bridgeKeys(spec.prefix),
    self,
    seen: new SeenIds(600_000, 100_000),
    log: silentLogger,
    following: {
      wants: (type) => matchers.some((m) => m(type)),
      patterns: () => spec.patterns,
      onChange: () => () => {},
    },
    deliver,
    history,
  });
  return () => {
    stop();
    sub.disconnect();
    history.disconnect();
  };
}

async function subscriber(spec: SubscriberSpec): Promise<void> {
  const self = `bench-sub-${Deno.pid}`;
  const latencies: number[] = [];
  let ready = false;
  let cpuAtStart = 0;
  let lastAt = 0;
  let expected = -1;
  const { promise: ended, resolve: end } = Promise.withResolvers<void>();
  const deliver = (event: CloudEvent) => {
    const data = event.data as { t?: number; expected?: number } | null;
    if (event.type === "bench.warm") {
      if (!ready) console.log("ready");
      ready = true;
    } else if (event.type === "bench.start") {
      void processCpuSeconds(Deno.pid).then((s) => (cpuAtStart = s));
    } else if (event.type === "bench.end") {
      expected = data?.expected ?? 0;
      if (latencies.length >= expected) end();
    } else if (typeof data?.t === "number") {
      lastAt = nowMs();
      latencies.push(Math.round((lastAt - data.t) * 100) / 100);
      if (expected >= 0 && latencies.length >= expected) end();
    }
  };
  const stop = spec.design === "gate"
    ? subscribeGate(spec, self, deliver)
    : tail(spec, self, deliver);
  await ended;
  const cpuS = (await processCpuSeconds(Deno.pid)) - cpuAtStart;
  const result: SubscriberResult = { received: latencies.length, lastAt, cpuS, latencies };
  console.log(JSON.stringify(result));
  stop();
  Deno.exit(0);
}

interface Sub {
  proc: Deno.ChildProcess;
  lines: AsyncIterator<string>;
}

async function* linesOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
    }
  }
}

function spawnSubscriber(spec: SubscriberSpec): Sub {
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--subscriber", JSON.stringify(spec)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  return { proc, lines: linesOf(proc.stdout)[Symbol.asyncIterator]() };
}

async function nextLine(sub: Sub, timeoutMs: number, what: string): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  });
  try {
    const line = await Promise.race([sub.lines.next(), timeout]);
    if (line.done) throw new Error(`subscriber exited before ${what}`);
    return line.value;
  } finally {
    clearTimeout(timer);
  }
}

/** Task lifecycle types nobody follows in the `unfollowed` workload. */
const QUIET_TYPES = ["task.queued", "task.started", "task.succeeded"];

/** An event about the size of a task lifecycle event, stamped with when it was made. */
function benchEvent(type: string, i: number): CloudEvent {
  return createEvent({
    type,
    source: "/un/api",
    subject: `job-${i}`,
    data: { taskId: `01JBENCH${String(i).padStart(18, "0")}`, task: "noop", t: nowMs() },
  });
}

/** Redis's CPU seconds, commands by name and bytes sent so far. */
async function counters(admin: Redis) {
  const info = await admin.info("all");
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1]);
  const commands = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) commands.set(m[1], Number(m[2]));
  return {
    cpuS: field("used_cpu_sys") + field("used_cpu_user"),
    calls: [...commands.values()].reduce((a, b) => a + b, 0),
    outBytes: field("total_net_output_bytes"),
    commands,
  };
}

/** Appends `total` events in batches of `batch`, `inFlight` appends at a time (or paced at `rate`/s). */
async function publishAll(
  store: RedisStore,
  total: number,
  batch: number,
  inFlight: number,
  typeOf: (i: number) => string,
  rate?: number,
): Promise<void> {
  let next = 0;
  const startedAt = performance.now();
  const worker = async () => {
    while (next < total) {
      if (rate) {
        const due = ((performance.now() - startedAt) / 1_000) * rate;
        if (next >= due) {
          await sleep(1);
          continue;
        }
      }
      const from = next;
      next = Math.min(total, next + batch);
      const events = [];
      for (let i = from; i < next; i++) events.push(benchEvent(typeOf(i), i));
      await store.appendEvents(events);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

interface RunFigures {
  events_per_s: number;
  p50_ms: number;
  p99_ms: number;
  redis_cpu_us_per_event: number;
  redis_cmds_per_event: number;
  redis_out_bytes_per_event: number;
  subscribers_cpu_us_per_event: number;
}

async function run(url: string, admin: Redis, design: Design, n: number, workload: Workload) {
  const prefix = uniquePrefix(`bridge-${design}`);
  const patterns = ["bench.*", "x.*"];
  // The plain design's append writes the stream only (no publish, no gate).
  const store = await RedisStore.open({ url, prefix, bridge: design === "gate" });
  const subs = Array.from({ length: n }, () => spawnSubscriber({ design, url, prefix, patterns }));
  try {
    // Warm up until every subscriber hears events (and the publisher's gate knows of them).
    const readies = subs.map((s) => nextLine(s, 30_000, "ready"));
    let warmed = false;
    void Promise.all(readies).then(() => (warmed = true));
    for (let i = 0; !warmed; i++) {
      await store.appendEvents([benchEvent("bench.warm", i)]);
      await sleep(50);
    }
    await Promise.all(readies);
    // Past a new follow's catch-up read (interest.ts, 1.5 s after it is written), so it is not measured.
    await sleep(2_500);
    await store.appendEvents([benchEvent("bench.start", 0)]);
    await sleep(100);
    const before = await counters(admin);
    const startedAt = nowMs();
    const paced = workload === "paced" || workload === "quiet";
    const total = paced ? 2_000 : 20_000;
    const mixed = workload === "unfollowed" || workload === "quiet";
    const expected = mixed ? total / 10 : total;
    const typeOf = mixed ? (i: number) => i % 10 ? QUIET_TYPES[i % 3] : "x.tick" : () => "x.tick";
    if (paced) await publishAll(store, total, 1, 1, typeOf, 500);
    else await publishAll(store, total, 10, 8, typeOf);
    await store.appendEvents([{ ...benchEvent("bench.end", 0), data: { expected } }]);
    const results = await Promise.all(
      subs.map(async (s) => JSON.parse(await nextLine(s, 60_000, "result")) as SubscriberResult),
    );
    const after = await counters(admin);
    const short = results.find((r) => r.received < expected);
    if (short) throw new Error(`${design}: ${short.received} of ${expected} delivered`);
    const lastAt = Math.max(...results.map((r) => r.lastAt));
    const latencies = results.flatMap((r) => r.latencies);
    const perEvent = (x: number) => Math.round((x / total) * 100) / 100;
    const busiest = [...after.commands]
      .map(([name, calls]) => [name, calls - (before.commands.get(name) ?? 0)] as const)
      .filter(([, d]) => d > 0).sort((a, b) => b[1] - a[1]).slice(0, 6)
      .map(([name, d]) => `${name}=${d}`).join(" ");
    console.error(`  ${design} n=${n} ${workload}: ${busiest}`);
    const figures: RunFigures = {
      events_per_s: Math.round(total / ((lastAt - startedAt) / 1_000)),
      p50_ms: percentile(latencies, 50),
      p99_ms: percentile(latencies, 99),
      redis_cpu_us_per_event: perEvent((after.cpuS - before.cpuS) * 1e6),
      // Less the INFO call itself.
      redis_cmds_per_event: perEvent(after.calls - before.calls - 1),
      redis_out_bytes_per_event: perEvent(after.outBytes - before.outBytes),
      subscribers_cpu_us_per_event: perEvent(results.reduce((s, r) => s + r.cpuS, 0) * 1e6),
    };
    return figures;
  } finally {
    for (const s of subs) {
      try {
        s.proc.kill("SIGKILL");
      } catch { /* exited after its result */ }
      await s.proc.status;
    }
    await store.close();
    await admin.eval(
      "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('UNLINK', k) end",
      0,
      `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`,
    );
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The p-th percentile (0..100). Not harness.ts's: that module loads the runtime, which a subscriber does not need. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function main(): Promise<void> {
  const rounds = Number(Deno.env.get("UN_BENCH_BRIDGE_ROUNDS") ?? 3);
  await using redis = await benchRedis();
  console.error(`bridge bench on ${redis.private ? "a private redis-server" : redis.url}`);
  const admin = new Redis(redis.url);
  const runs = new Map<string, RunFigures[]>();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const workload of ["followed", "paced", "unfollowed", "quiet"] as const) {
        for (const n of [1, 4]) {
          // Alternate which design goes first, so neither always runs on a warmer machine.
          const designs: Design[] = round % 2 ? ["plain", "gate"] : ["gate", "plain"];
          for (const design of designs) {
            const key = `${design}_n${n}_${workload}`;
            const figures = await run(redis.url, admin, design, n, workload);
            console.error(`${key}: ${JSON.stringify(figures)}`);
            runs.set(key, [...(runs.get(key) ?? []), figures]);
          }
        }
      }
    }
  } finally {
    admin.disconnect();
  }
  const out: Record<string, Record<string, number>> = {};
  for (const [key, list] of runs) {
    const entry: Record<string, number> = {};
    for (const name of Object.keys(list[0]) as (keyof RunFigures)[]) {
      entry[name] = median(list.map((f) => f[name]));
    }
    out[`bridge_${key}`] = entry;
  }
  console.log(JSON.stringify(out));
}

if (Deno.args[0] === "--subscriber") await subscriber(JSON.parse(Deno.args[1]) as SubscriberSpec);
else await main();
