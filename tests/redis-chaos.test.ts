/**
 * Chaos acceptance, black-box: one `--role api` process and four
 * `--role worker` processes share a private redis-server (AOF, `appendfsync
 * always`) and run 10 000 `mark` tasks (each appends its id to a file, so side
 * effects can be counted). During the run a random worker is `kill -9`ed five
 * times (a replacement is started each time) and Redis is restarted once.
 * At the end every task is `succeeded`, every id is in the marks file (none
 * lost), and no task that had succeeded before a kill or the restart ran
 * again afterwards. Tasks caught mid-run by a kill or the restart may run
 * twice (at-least-once): only those already succeeded at a snapshot are held
 * to "never again".
 *
 * Needs `redis-server`; without it the test is ignored, except under
 * `CI=true` where it fails.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import { api } from "./helpers/http.ts";
import { redisServerForTests, startRedis } from "./helpers/redis-server.ts";
import { REPO, startUn, type UnProcess } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const { ignore, suffix } = redisServerForTests("redis chaos");

const TOTAL = 10_000;
const WORKERS = 4;
/** Progress (succeeded / TOTAL) at which each kill happens. */
const KILL_AT = [0.1, 0.25, 0.4, 0.6, 0.75];
/** Progress at which Redis is restarted (between the third and fourth kill). */
const RESTART_AT = 0.5;

interface Queues {
  queues: Record<string, Record<string, number>>;
}

/** Counts of the default queue, or null while the store is away (503). */
async function counts(un: UnProcess): Promise<Record<string, number> | null> {
  const res = await api<Queues>(un.url, "GET", "/un/queues");
  return res.status === 200 ? (res.body.queues.default ?? {}) : null;
}

/** How many times each task id was run to its side effect. */
async function markCounts(file: string): Promise<Map<string, number>> {
  const text = await Deno.readTextFile(file).catch(() => "");
  const out = new Map<string, number>();
  for (const id of text.split("\n")) if (id) out.set(id, (out.get(id) ?? 0) + 1);
  return out;
}

/**
 * When each task's success was recorded, from the `task.succeeded` events
 * of the shared history: a worker emits one only after Redis acknowledged the
 * completion (AOF `appendfsync always`), so its time is a durable success.
 * Events a killed worker had not written yet are missing; their tasks are
 * simply not held to "never again".
 */
async function successTimes(un: UnProcess): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let after = "";
  for (;;) {
    const res = await api<{ events: CloudEvent[] }>(
      un.url,
      "GET",
      `/un/events/history?type=task.succeeded&limit=1000${after ? `&after=${after}` : ""}`,
    );
    assert.equal(res.status, 200, `history: ${JSON.stringify(res.body).slice(0, 300)}`);
    for (const event of res.body.events) {
      if (event.subject) out.set(event.subject, Date.parse(event.time));
    }
    if (res.body.events.length < 1_000) return out;
    after = res.body.events[res.body.events.length - 1].id;
  }
}

/** A small seeded PRNG, so a failing run's choice of victims can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A moment of the run: its time, and how often each task had run by then. */
interface Snapshot {
  what: string;
  at: number;
  runs: Map<string, number>;
}

Deno.test({
  name: `redis chaos: ${TOTAL} tasks, ${KILL_AT.length} worker kills and a Redis restart${suffix}`,
  ignore,
  async fn() {
    const seed = Number(Deno.env.get("UN_TEST_CHAOS_SEED") ?? Date.now() % 1_000_000);
    const pick = random(seed);
    console.log(`seed ${seed} (UN_TEST_CHAOS_SEED replays the choice of victims)`);

    await using redis = await startRedis();
    const dir = await Deno.makeTempDir({ prefix: "un_chaos_" });
    const marks = join(dir, "marks.txt");
    const config = {
      redis: { url: redis.url },
      handlers: join(REPO, "tests/fixtures/handlers.ts"),
      workers: { concurrency: 16, leaseMs: 1_000, shutdownGraceMs: 1_000 },
      scheduler: { tickMs: 100 },
      log: { level: "warn" },
    };
    const all: UnProcess[] = [];
    // `un start` refuses to start while Redis is unreachable (exit 2), as it
    // should; a replacement that lands on the restart is tried again, as a
    // service manager would.
    const start = async (role: string, attempts = 5): Promise<UnProcess> => {
      for (let attempt = 1;; attempt++) {
        try {
          const un = await startUn({ config, args: ["--role", role] });
          all.push(un);
          return un;
        } catch (err) {
          if (attempt >= attempts) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    try {
      const front = await start("api");
      const ids: string[] = [];
      for (let i = 0; i < TOTAL; i += 1_000) {
        const tasks = Array.from(
          { length: Math.min(1_000, TOTAL - i) },
          () => ({ type: "mark", payload: { ms: 2, file: marks } }),
        );
        const created = await api<{ tasks: Array<{ id: string }> }>(
          front.url,
          "POST",
          "/un/tasks/create",
          { tasks },
        );
        assert.equal(created.status, 201, JSON.stringify(created.body).slice(0, 300));
        ids.push(...created.body.tasks.map((t) => t.id));
      }
      // Workers start once every task is queued, so progress tells the run's time.
      const workers = await Promise.all(Array.from({ length: WORKERS }, () => start("worker")));
      const running = Date.now();

      // Which tasks had succeeded at a snapshot is read from the history at
      // the end (successTimes), so taking one does not slow the chaos down.
      const snapshots: Snapshot[] = [];
      const snapshot = async (what: string) => {
        const at = Date.now();
        snapshots.push({ what, at, runs: await markCounts(marks) });
      };
      const progressAt = (fraction: number, what: string) =>
        eventually(async () => {
          const q = await counts(front);
          return q && (q.succeeded ?? 0) >= fraction * TOTAL ? q.succeeded : undefined;
        }, {
          timeoutMs: 60_000,
          intervalMs: 50,
          message: `${what}: ${fraction * TOTAL} tasks succeeded`,
        });

      // Replacements start in the background, so the chaos keeps pace with
      // the work; victims are chosen among the workers that are up.
      const replacements: Promise<void>[] = [];
      let replaceFailed: unknown = null;
      const replace = () =>
        replacements.push(
          start("worker").then((un) => void workers.push(un), (err) => void (replaceFailed = err)),
        );
      let restarted = false;
      for (const [k, fraction] of KILL_AT.entries()) {
        if (!restarted && fraction > RESTART_AT) {
          const done = await progressAt(RESTART_AT, "the Redis restart");
          await snapshot("the Redis restart");
          const t = Date.now();
          await redis.restart();
          console.log(`Redis restarted (${done} succeeded before) in ${Date.now() - t} ms`);
          restarted = true;
        }
        const done = await progressAt(fraction, `kill ${k + 1}`);
        if (workers.length < 2) await Promise.all(replacements);
        const [victim] = workers.splice(Math.floor(pick() * workers.length), 1);
        await snapshot(`kill ${k + 1}`);
        await victim.kill();
        console.log(`kill ${k + 1}: ${done} succeeded before, ${workers.length} workers left up`);
        replace();
      }
      await Promise.all(replacements);
      if (replaceFailed) throw replaceFailed;

      const final = await eventually(async () => {
        const q = await counts(front);
        return q && (q.succeeded ?? 0) === TOTAL ? q : undefined;
      }, { timeoutMs: 90_000, intervalMs: 250, message: `all ${TOTAL} tasks succeeded` });
      const elapsed = Date.now() - running;

      // Every task ended succeeded: nothing else is left in the queue.
      for (const [state, n] of Object.entries(final)) {
        if (state !== "succeeded") assert.equal(n, 0, `${n} tasks are ${state}`);
      }
      // None lost: every task ran to its side effect, and nothing else ran.
      const runs = await markCounts(marks);
      const missing = ids.filter((id) => !runs.has(id));
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} tasks never ran`);
      assert.equal(runs.size, TOTAL, "the marks file names only the tasks created");
      // None ran again after it had succeeded.
      const succeededAt = await successTimes(front);
      const held: number[] = [];
      for (const { what, at, runs: before } of snapshots) {
        const done = [...succeededAt].filter(([, time]) => time < at).map(([id]) => id);
        const again = done.filter((id) => runs.get(id) !== before.get(id));
        assert.deepEqual(
          again.slice(0, 10),
          [],
          `${again.length} tasks that had succeeded before ${what} ran again after it`,
        );
        held.push(done.length);
      }
      // Every process is up: nothing crashed, the killed ones were replaced.
      for (const un of [front, ...workers]) {
        const health = await api(un.url, "GET", "/health");
        assert.equal(health.status, 200, un.stderrText().slice(-2_000));
      }
      const repeated = [...runs.values()].reduce((a, b) => a + b, 0) - TOTAL;
      console.log(`all ${TOTAL} succeeded ${elapsed} ms after the workers started`);
      console.log(`${repeated} runs repeated (tasks caught mid-run by a kill or the restart)`);
      console.log(`succeeded tasks held to "never again" per snapshot: ${held.join(", ")}`);
    } catch (err) {
      // What each process said last, so a failure is diagnosed from the output.
      for (const [i, un] of all.entries()) {
        console.error(`--- process ${i} (${un.url}) stderr ---\n${un.stderrText().slice(-3_000)}`);
      }
      throw err;
    } finally {
      await Promise.all(all.map((un) => un[Symbol.asyncDispose]()));
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
