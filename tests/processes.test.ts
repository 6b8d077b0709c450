/**
 * `GET /un/processes` and `un processes`, black-box with real `un start`
 * processes: on one private Redis every process lists the whole cluster (role,
 * pool, busy workers); a killed process drops out within three heartbeats and
 * a stopped one at once. On the embedded store a process lists itself.
 *
 * The Redis case needs `redis-server` (a private one, from `startRedis()`);
 * without it it is ignored, except under `CI=true` where it fails.
 */

import assert from "node:assert/strict";
import type { ProcessRecord } from "../lib/store/types.ts";
import { runCli } from "./helpers/cli.ts";
import { api } from "./helpers/http.ts";
import { redisServerForTests, startRedis } from "./helpers/redis-server.ts";
import { processId, startMany, startUn, type UnProcess } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const { ignore, suffix } = redisServerForTests("processes");

const HEARTBEAT_MS = 200;

interface ProcessList {
  self: string;
  processes: ProcessRecord[];
}

async function processes(un: UnProcess): Promise<ProcessList> {
  const res = await api<ProcessList>(un.url, "GET", "/un/processes");
  assert.equal(res.status, 200);
  return res.body;
}

Deno.test({
  name:
    `processes: the cluster lists itself; a killed process drops out, a stopped one at once${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis();
    const config = {
      redis: { url: redis.url },
      scheduler: { heartbeatMs: HEARTBEAT_MS },
      workers: { concurrency: 3 },
    };
    await using group = await startMany([
      { config, args: ["--role", "api"] },
      { config, args: ["--role", "worker"] },
      { config, args: ["--role", "worker"] },
    ]);
    const [front, killed, stopped] = group.procs;
    const ids = await Promise.all(group.procs.map(processId));

    const all = await eventually(async () => {
      const list = await processes(front);
      return list.processes.length === 3 ? list : undefined;
    }, { timeoutMs: 5_000, message: "three processes listed" });
    assert.equal(all.self, ids[0]);
    assert.deepEqual(all.processes.map((p) => p.id), [...ids].sort(), "by id");
    const byId = new Map(all.processes.map((p) => [p.id, p]));
    assert.equal(byId.get(ids[0])?.role, "api");
    assert.equal(byId.get(ids[0])?.concurrency, 0, "an api process has no pool");
    for (const id of ids.slice(1)) {
      assert.equal(byId.get(id)?.role, "worker");
      assert.equal(byId.get(id)?.concurrency, 3);
      assert.equal(byId.get(id)?.pid, Number(id.split(":").at(-2)));
    }

    // Busy workers show within a heartbeat or two.
    const created = await api(front.url, "POST", "/un/tasks/create", {
      tasks: Array.from({ length: 6 }, () => ({ type: "sleep", payload: { ms: 3_000 } })),
    });
    assert.equal(created.status, 201);
    await eventually(async () => {
      const list = await processes(front);
      const busy = list.processes.reduce((sum, p) => sum + p.busy, 0);
      return busy === 6 ? true : undefined;
    }, { timeoutMs: 5_000, message: "six busy workers listed" });

    // Killed: gone within three heartbeats (plus a heartbeat of slack for a
    // write in flight on two busy cores); the others stay listed meanwhile.
    const killedAt = Date.now();
    await killed.kill();
    await eventually(async () => {
      const list = await processes(front);
      return list.processes.some((p) => p.id === ids[1]) ? undefined : list;
    }, {
      timeoutMs: 4 * HEARTBEAT_MS + 1_000,
      intervalMs: 20,
      message: "the killed process dropped",
    });
    const goneAfterMs = Date.now() - killedAt;
    console.log(`dropped ${goneAfterMs}ms after the kill (heartbeat ${HEARTBEAT_MS}ms)`);
    assert.ok(goneAfterMs <= 4 * HEARTBEAT_MS + 300, `dropped ${goneAfterMs}ms after the kill`);
    assert.deepEqual((await processes(front)).processes.map((p) => p.id), [ids[0], ids[2]].sort());

    // Stopped cleanly: its record is removed on the way out.
    await stopped.stop("SIGTERM", 10_000);
    assert.deepEqual((await processes(front)).processes.map((p) => p.id), [ids[0]]);

    // The CLI shows the same list.
    const cli = await runCli(["processes"], { UN_URL: front.url });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^PROCESS +ROLE +HOST +PID +WORKERS +UP +SEEN$/m);
    assert.match(cli.stdout, new RegExp(`^${ids[0]} \\(this\\) +api `, "m"));
    assert.doesNotMatch(cli.stdout, new RegExp(ids[1]));
  },
});

Deno.test("processes: on the embedded store a process lists itself, its pool and nothing else", async () => {
  await using un = await startUn({
    config: { scheduler: { heartbeatMs: HEARTBEAT_MS }, workers: { concurrency: 2 } },
  });
  const id = await processId(un);
  const cli = await runCli(["processes", "--json"], { UN_URL: un.url });
  assert.equal(cli.code, 0, cli.stderr);
  const list = JSON.parse(cli.stdout) as ProcessList;
  assert.equal(list.self, id);
  assert.equal(list.processes.length, 1);
  const [me] = list.processes;
  assert.equal(me.id, id);
  assert.equal(me.role, "all");
  assert.equal(me.concurrency, 2);
  assert.equal(me.busy, 0);
  assert.ok(Date.now() - me.seenAt < 5_000, "seen just now");

  const extra = await runCli(["processes", "extra"], { UN_URL: un.url });
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /unexpected argument "extra"; usage: un processes \[--json\]/);
});
