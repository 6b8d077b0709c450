/**
 * Several `un start` processes on one private Redis, black-box: each source is
 * scanned by exactly one process (the holder of its lease); when the holder is
 * killed another takes the source over within one lease period, and a clean
 * stop hands it over at once; cron and interval schedules fire once per tick
 * across all processes.
 *
 * Needs `redis-server` (a private one per test, from `startRedis()`); without
 * it the tests are ignored, except under `CI=true` where they fail.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import { history } from "./helpers/events.ts";
import { api } from "./helpers/http.ts";
import { redisServerForTests, startRedis } from "./helpers/redis-server.ts";
import { processId, startMany, type StartUnOptions, type UnProcess } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const { ignore, suffix } = redisServerForTests("cluster");

/** `n` processes with the same options (see `startMany`). */
function cluster(n: number, options: StartUnOptions) {
  return startMany(Array.from({ length: n }, () => options));
}

/** True when this process runs the scanner of `sourceId` (its child `source:<id>`). */
async function scans(un: UnProcess, sourceId: string): Promise<boolean> {
  const res = await api<{ actors: { id: string }[] }>(un.url, "GET", "/health");
  return res.body.actors.some((a) => a.id === `source:${sourceId}`);
}

/** The one process scanning `sourceId`; fails if there are several. */
async function holderOf(procs: UnProcess[], sourceId: string): Promise<UnProcess | undefined> {
  const holders: UnProcess[] = [];
  for (const p of procs) if (await scans(p, sourceId)) holders.push(p);
  assert.ok(holders.length <= 1, `${holders.length} processes scan ${sourceId} at once`);
  return holders[0];
}

/** Waits until a `file.created` of `name` is in the shared history. */
function fileSeen(un: UnProcess, name: string): Promise<CloudEvent> {
  return eventually(async () => {
    const events = await history(un, "file.created");
    return events.find((e) => e.source === "/un/sources/inbox" && e.subject?.endsWith(name));
  }, { timeoutMs: 10_000, message: `file.created of ${name}` });
}

function sourceConfig(redisUrl: string, watched: string, sourceLeaseMs: number) {
  return {
    redis: { url: redisUrl },
    scheduler: { sourceLeaseMs },
    sources: [{ id: "inbox", kind: "fs", path: watched, debounceMs: 20, maxDelayMs: 200 }],
  };
}

Deno.test({
  name: `cluster: killing the process that scans a source hands it over within one lease${suffix}`,
  ignore,
  async fn() {
    const leaseMs = 1_000;
    await using redis = await startRedis();
    const watched = await Deno.makeTempDir({ prefix: "un_cluster_watch_" });
    try {
      const config = sourceConfig(redis.url, watched, leaseMs);
      await using group = await cluster(3, { config, args: ["--role", "scanner"] });
      const first = await eventually(() => holderOf(group.procs, "inbox"), {
        timeoutMs: 10_000,
        message: "a holder",
      });
      await Deno.writeTextFile(join(watched, "one.txt"), "1");
      await fileSeen(first, "one.txt");

      const killedAt = Date.now();
      await first.kill();
      const rest = group.procs.filter((p) => p !== first);
      const second = await eventually(() => holderOf(rest, "inbox"), {
        timeoutMs: 5_000,
        intervalMs: 10,
        message: "a new holder",
      });
      const takeoverMs = Date.now() - killedAt;
      console.log(`taken over ${takeoverMs}ms after the kill (lease ${leaseMs}ms)`);
      // Within one lease period, plus what polling /health on two busy cores adds.
      assert.ok(takeoverMs <= leaseMs + 300, `takeover took ${takeoverMs}ms (lease ${leaseMs}ms)`);
      assert.match(second.stderrText(), /source leadership gained/);

      await Deno.writeTextFile(join(watched, "two.txt"), "2");
      const event = await fileSeen(second, "two.txt");
      const secondId = await processId(second);
      assert.equal(event.origin, secondId, "the new holder announced the new file");
      // Exactly one scanner the whole time after the takeover.
      for (let i = 0; i < 5; i++) {
        assert.equal(await holderOf(rest, "inbox"), second);
        await new Promise((r) => setTimeout(r, 100));
      }

      // Disabled (through any process): nobody scans it; enabled again: exactly one does.
      const nobody = async () =>
        (await Promise.all(rest.map((p) => scans(p, "inbox")))).every((s) => !s);
      const other = rest.find((p) => p !== second)!;
      assert.equal((await api(other.url, "POST", "/un/sources/inbox/disable")).status, 200);
      await eventually(nobody, {
        timeoutMs: leaseMs,
        intervalMs: 10,
        message: "no scanner of a disabled source",
      });
      assert.equal((await api(other.url, "POST", "/un/sources/inbox/enable")).status, 200);
      await eventually(() => holderOf(rest, "inbox"), {
        timeoutMs: leaseMs,
        intervalMs: 10,
        message: "a scanner again",
      });
      // Deleted: its scanner stops too.
      assert.equal((await api(other.url, "DELETE", "/un/sources/inbox")).status, 200);
      await eventually(nobody, {
        timeoutMs: leaseMs,
        intervalMs: 10,
        message: "no scanner of a deleted source",
      });
    } finally {
      await Deno.remove(watched, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: `cluster: a clean stop releases the lease, so another process takes over at once${suffix}`,
  ignore,
  async fn() {
    // A long lease: a takeover well before it runs out can only come from the release.
    const leaseMs = 12_000;
    await using redis = await startRedis();
    const watched = await Deno.makeTempDir({ prefix: "un_cluster_watch_" });
    try {
      const config = sourceConfig(redis.url, watched, leaseMs);
      await using group = await cluster(2, { config, args: ["--role", "scanner"] });
      const first = await eventually(() => holderOf(group.procs, "inbox"), {
        timeoutMs: 10_000,
        message: "a holder",
      });
      const [other] = group.procs.filter((p) => p !== first);
      const stoppedAt = Date.now();
      const status = await first.stop("SIGTERM");
      assert.equal(status.code, 0, first.stderrText());
      assert.match(first.stderrText(), /source leadership released/);
      await eventually(() => scans(other, "inbox"), {
        timeoutMs: 5_000,
        intervalMs: 10,
        message: "takeover",
      });
      const takeoverMs = Date.now() - stoppedAt;
      console.log(`taken over ${takeoverMs}ms after SIGTERM (lease ${leaseMs}ms)`);
      // The other process's next round (every leaseMs / 4) finds the lease free,
      // long before the lease (2/3 · leaseMs) would run out.
      assert.ok(takeoverMs < leaseMs / 2, `takeover took ${takeoverMs}ms`);
      await Deno.writeTextFile(join(watched, "after.txt"), "x");
      await fileSeen(other, "after.txt");
    } finally {
      await Deno.remove(watched, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    `cluster: a manual scan asked of an api process runs on the process that scans the source${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis();
    const watched = await Deno.makeTempDir({ prefix: "un_cluster_watch_" });
    try {
      const config = sourceConfig(redis.url, watched, 1_000);
      await using scanners = await cluster(1, { config, args: ["--role", "scanner"] });
      await using apis = await cluster(1, { config, args: ["--role", "api"] });
      const [scanner] = scanners.procs;
      const [apiOnly] = apis.procs;
      await eventually(() => scans(scanner, "inbox"), {
        timeoutMs: 10_000,
        message: "the scanner",
      });
      const scannerId = await processId(scanner);

      const res = await api<{ scan: { requestedBy: string; changes: number; error: null } }>(
        apiOnly.url,
        "POST",
        "/un/sources/inbox/scan",
        { requestedBy: "cli" },
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.scan.requestedBy, "cli");
      assert.equal(res.body.scan.error, null);
      const listed = await api<{ scans: { requestedBy: string }[] }>(
        apiOnly.url,
        "GET",
        "/un/sources/inbox/scans",
      );
      assert.deepEqual(listed.body.scans.map((s) => s.requestedBy), ["cli"], "recorded once");
      const completed = await history(apiOnly, "scan.completed");
      assert.equal(completed.length, 1);
      assert.equal(completed[0].origin, scannerId, "the scanning process ran it");
      assert.match(scanner.stderrText(), /scanned a source for another process/);

      // Nobody scans it any more: a clear 503 at once, not a wait.
      assert.equal((await scanner.stop("SIGTERM")).code, 0);
      const started = Date.now();
      const refused = await api<{ error: { code: string; message: string } }>(
        apiOnly.url,
        "POST",
        "/un/sources/inbox/scan",
      );
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.match(refused.body.error.message, /no process scans source inbox/);
      assert.ok(Date.now() - started < 5_000, "refused without waiting for a scan timeout");
    } finally {
      await Deno.remove(watched, { recursive: true }).catch(() => {});
    }
  },
});

/** Ticks of a schedule's `schedule.fired` events, counted. */
function ticksOf(events: CloudEvent[], schedule: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const e of events) {
    if (e.subject !== schedule) continue;
    const tick = (e.data as { tick: number }).tick;
    counts.set(tick, (counts.get(tick) ?? 0) + 1);
  }
  return counts;
}

Deno.test({
  name: `cluster: cron and interval schedules fire once per tick across 3 processes${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis();
    const config = {
      redis: { url: redis.url },
      workers: { concurrency: 1 },
      scheduler: {
        schedules: [
          { id: "each-second", cron: "* * * * * *", task: "noop", payload: { from: "cron" } },
          { id: "each-2s", every: "2s", task: "noop", payload: { from: "every" } },
        ],
      },
    };
    await using group = await cluster(3, { config, args: ["--role", "worker"] });
    const [one] = group.procs;
    // Whole seconds after every process is up: each of them has all three schedulers running.
    const from = Math.ceil(Date.now() / 1_000) * 1_000 + 1_000;
    const to = from + 10_000;
    await new Promise((r) => setTimeout(r, to + 500 - Date.now()));

    const fired = await eventually(async () => {
      const events = await history(one, "schedule.fired");
      const seconds = ticksOf(events, "each-second");
      return seconds.has(to) ? events : undefined;
    }, { timeoutMs: 5_000, message: "the last tick's schedule.fired" });
    const seconds = ticksOf(fired, "each-second");
    const twos = ticksOf(fired, "each-2s");
    for (const [tick, count] of [...seconds, ...twos]) {
      assert.equal(count, 1, `tick ${new Date(tick).toISOString()} fired ${count} times`);
    }
    for (let tick = from; tick <= to; tick += 1_000) {
      assert.equal(seconds.get(tick), 1, `every-second tick ${tick - from}ms fired once`);
      if (tick % 2_000 === 0) assert.equal(twos.get(tick), 1, `2s tick ${tick - from}ms`);
    }
    const origins = new Set(fired.map((e) => e.origin));
    console.log(`ticks fired by ${origins.size} of 3 processes`);

    // One task per tick too (the work, not only the event).
    const tasks = await eventually(async () => {
      const res = await api<{ tasks: { payload: { schedule: string; tick: number } }[] }>(
        one.url,
        "GET",
        "/un/tasks?type=noop&limit=1000",
      );
      const mine = res.body.tasks.filter((t) => t.payload.schedule === "each-second");
      return mine.some((t) => t.payload.tick === to) ? mine : undefined;
    }, { timeoutMs: 5_000, message: "the last tick's task" });
    const perTick = new Map<number, number>();
    for (const t of tasks) perTick.set(t.payload.tick, (perTick.get(t.payload.tick) ?? 0) + 1);
    for (const [tick, count] of perTick) assert.equal(count, 1, `tick ${tick}: ${count} tasks`);

    // Every process paused (SIGSTOP) for 2.5 s: the ticks missed meanwhile still fire, once each, late.
    const pausedAt = Date.now();
    group.procs.forEach((p) => p.proc.kill("SIGSTOP"));
    await new Promise((r) => setTimeout(r, 2_500));
    group.procs.forEach((p) => p.proc.kill("SIGCONT"));
    const resumed = Math.ceil(Date.now() / 1_000) * 1_000 + 1_000;
    const after = await eventually(async () => {
      const events = await history(one, "schedule.fired");
      return ticksOf(events, "each-second").has(resumed) ? events : undefined;
    }, { timeoutMs: 5_000, message: "a tick after the pause" });
    const afterSeconds = ticksOf(after, "each-second");
    for (let tick = to; tick <= resumed; tick += 1_000) {
      assert.equal(afterSeconds.get(tick), 1, `tick ${tick - pausedAt}ms after the pause began`);
    }
    const late = after.filter((e) =>
      e.subject === "each-second" && (e.data as { lateMs: number }).lateMs >= 1_000
    );
    assert.ok(late.length >= 1, "ticks missed during the pause were fired late");
  },
});
