// The BullMQ side of `deno task bench --redis`, run under Node (Deno cannot
// resolve bullmq's optional msgpackr-extract platform packages from our
// registry mirror; npm skips the missing ones). It does what bench/redis_un.ts
// does with un, measured the same way, and prints one JSON line.
//
//   node run.mjs tasks <redis-url> <redis-pid|0> <count> <concurrency> [<warm-up count>]
//   node run.mjs scaleout <redis-url> <redis-pid|0> <processes> <tasks> <concurrency> <sleep-ms>
//     -> {"perSecond": n, "clientCpuUsPerTask": n, "redisCpuUsPerTask": n}
//   node run.mjs worker <redis-url> <prefix> <concurrency>   (a scale-out child)
//
// CPU per task (ours and the Redis server's, from /proc) explains a figure on a
// machine other people share better than the figure alone.

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

// Loaded by a computed name: `deno task check` type-checks bench/, and a static
// import would send Deno looking for these in the repository's import map
// (bullmq is not there, on purpose; ioredis there is un's 5.x, not this 6.x).
const load = (name) => import(name);
const { Queue, Worker } = await load("bullmq");
const { Redis } = await load("ioredis");

const QUEUE = "bench";
// The size of un's task.enqueueMany batches in bench/redis_un.ts.
const BATCH = 1_000;

const [mode, url, ...rest] = process.argv.slice(2);
const connection = { url };
// The Redis server's pid, when the bench started it (0: not ours, no figure).
const redisPid = mode === "worker" ? 0 : Number.parseInt(rest.shift(), 10);

// CPU seconds (user + system) of a process so far; NaN without /proc.
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ
  } catch {
    return NaN;
  }
}
const redisCpu = () => (redisPid > 0 ? cpuSeconds(redisPid) : NaN);
const usPer = (seconds, n) => Math.round((seconds * 1e6) / n);

function uniquePrefix(what) {
  return `bullbench:${what}:${Date.now().toString(36)}${
    Math.floor(Math.random() * 1e6).toString(36)
  }`;
}

// Every key of a prefix (SCAN + UNLINK), as bench/redis_server.ts does for un.
async function dropPrefix(prefix) {
  const redis = new Redis(url);
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1_000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== "0");
  await redis.quit();
}

async function addAll(queue, count, data) {
  for (let i = 0; i < count; i += BATCH) {
    const jobs = [];
    for (let j = i; j < Math.min(count, i + BATCH); j++) {
      jobs.push({ name: data.name, data: { ...data.payload, i: j } });
    }
    await queue.addBulk(jobs);
  }
}

// redis_tasks_per_s's twin: add `count` no-op jobs while one Worker of
// `concurrency` runs them; from the first add to the last completion.
async function tasks(count, concurrency) {
  const prefix = uniquePrefix("tasks");
  const queue = new Queue(QUEUE, { connection, prefix });
  // un's noop returns its payload; so does this one.
  const worker = new Worker(QUEUE, (job) => Promise.resolve(job.data), {
    connection,
    prefix,
    concurrency,
  });
  try {
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
    let completed = 0;
    let failed = 0;
    const done = new Promise((resolve) => {
      const check = () => completed + failed >= count && resolve();
      worker.on("completed", () => (completed++, check()));
      worker.on("failed", () => (failed++, check()));
    });
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const redisBefore = redisCpu();
    await addAll(queue, count, { name: "noop", payload: {} });
    await done;
    const elapsed = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    if (failed > 0) throw new Error(`${failed} of ${count} BullMQ jobs failed`);
    return {
      perSecond: Math.round(count / (elapsed / 1_000)),
      clientCpuUsPerTask: Math.round((cpu.user + cpu.system) / count),
      redisCpuUsPerTask: usPer(redisCpu() - redisBefore, count),
    };
  } finally {
    await worker.close();
    await queue.close();
    await dropPrefix(prefix);
  }
}

// One point of bullmq_scaleout: jobs first, then `processes` worker processes;
// throughput from the moment the last one is ready to the last completion,
// counting only what finished in that window (as bench/redis_un.ts does).
async function scaleout(processes, count, concurrency, sleepMs) {
  const prefix = uniquePrefix(`scaleout-${processes}`);
  const queue = new Queue(QUEUE, { connection, prefix });
  const children = [];
  try {
    await addAll(queue, count, { name: "sleep", payload: { ms: sleepMs } });
    const ready = [];
    for (let i = 0; i < processes; i++) {
      const child = spawn(
        process.execPath,
        [new URL(import.meta.url).pathname, "worker", url, prefix, String(concurrency)],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      children.push(child);
      ready.push(
        new Promise((resolve, reject) => {
          createInterface({ input: child.stdout }).once("line", resolve);
          child.once("exit", (code) => reject(new Error(`BullMQ worker exited (${code})`)));
        }),
      );
    }
    await Promise.all(ready);
    const started = performance.now();
    const workersCpu = () => children.reduce((sum, c) => sum + cpuSeconds(c.pid), 0);
    const cpuBefore = workersCpu();
    const redisBefore = redisCpu();
    const finished = async () => {
      const c = await queue.getJobCounts("completed", "failed");
      return { all: c.completed + c.failed, failed: c.failed };
    };
    const before = await finished();
    let done = before;
    while (done.all < count) {
      if (performance.now() - started > 300_000) throw new Error("BullMQ scale-out timed out");
      await new Promise((r) => setTimeout(r, 25));
      done = await finished();
    }
    const elapsed = performance.now() - started;
    const cpu = workersCpu() - cpuBefore;
    const redisUsed = redisCpu() - redisBefore;
    if (done.failed > 0) throw new Error(`${done.failed} BullMQ sleep jobs failed`);
    const ran = count - before.all;
    return {
      perSecond: Math.round(ran / (elapsed / 1_000)),
      clientCpuUsPerTask: usPer(cpu, ran),
      redisCpuUsPerTask: usPer(redisUsed, ran),
    };
  } finally {
    await Promise.all(
      children.map((child) =>
        child.exitCode !== null ? null : new Promise((resolve) => {
          child.once("exit", resolve);
          child.kill("SIGTERM");
        })
      ),
    );
    await queue.close();
    await dropPrefix(prefix);
  }
}

// A scale-out worker process: says "ready" once connected, stops on SIGTERM.
async function worker(prefix, concurrency) {
  const w = new Worker(
    QUEUE,
    (job) => new Promise((resolve) => setTimeout(resolve, job.data.ms)),
    { connection, prefix, concurrency },
  );
  await w.waitUntilReady();
  process.stdout.write("ready\n");
  process.once("SIGTERM", () => w.close().then(() => process.exit(0)));
}

const int = (s) => Number.parseInt(s, 10);
try {
  if (mode === "tasks") {
    // Untimed first, so the measured run is warm (see WARMUP_TASKS in bench/redis.ts).
    const warmup = int(rest[2] ?? "0");
    if (warmup > 0) await tasks(warmup, int(rest[1]));
    console.log(JSON.stringify(await tasks(int(rest[0]), int(rest[1]))));
  } else if (mode === "scaleout") {
    const [processes, count, concurrency, sleepMs] = rest.map(int);
    console.log(JSON.stringify(await scaleout(processes, count, concurrency, sleepMs)));
  } else if (mode === "worker") {
    await worker(rest[0], int(rest[1]));
  } else {
    throw new Error(`usage: node run.mjs tasks|scaleout|worker <redis-url> ...; got ${mode}`);
  }
} catch (error) {
  console.error(`bullmq bench: ${error.stack ?? error}`);
  process.exit(1);
}
