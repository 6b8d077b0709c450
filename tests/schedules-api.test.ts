/**
 * Schedules managed at run time against a real `un start` (routes/schedules.ts,
 * lib/schedules/): one added over the API fires within one tick of its time
 * and shows its next fire times and its last run with its task id; pause stops
 * it, resume starts it again, trigger fires it now; a config-file schedule is
 * listed read-only but can be paused; an unknown task type is refused; the
 * changes are announced as `schedule.*` events; `un schedules` lists them.
 * On Redis a schedule added through one process fires in the other too,
 * once per occurrence.
 */

import assert from "node:assert/strict";
import type { ScheduleView } from "../lib/schedules/manage.ts";
import { runCli } from "./helpers/cli.ts";
import { eventually } from "./helpers/eventually.ts";
import { history } from "./helpers/events.ts";
import { api } from "./helpers/http.ts";
import { dropPrefix, REDIS_URL, redisForTests } from "./helpers/redis-store.ts";
import { startUn, type UnProcess } from "./helpers/un-process.ts";

type Task = {
  id: string;
  type: string;
  createdAt: number;
  payload: { schedule?: string; tick?: number };
};

async function scheduleTasks(un: UnProcess, id: string): Promise<Task[]> {
  const res = await api<{ tasks: Task[] }>(un.url, "GET", "/un/tasks?type=noop&limit=1000");
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.tasks.filter((t) => t.payload.schedule === id);
}

async function getSchedule(un: UnProcess, id: string): Promise<ScheduleView> {
  const res = await api<{ schedule: ScheduleView }>(un.url, "GET", `/un/schedules/${id}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.schedule;
}

const config = {
  scheduler: { tickMs: 200, schedules: [{ id: "hourly", every: "1h", task: "noop" }] },
};

Deno.test("schedules API: add, fire within a tick, pause, resume, trigger, config read-only", async () => {
  const un = await startUn({ config });
  try {
    const added = await api<{ schedule: ScheduleView }>(un.url, "POST", "/un/schedules", {
      id: "beat",
      every: "1s",
      task: "noop",
      catchUp: "one",
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal(added.body.schedule.origin, "api");
    assert.equal(added.body.schedule.nextRuns.length, 5);
    assert.equal(added.body.schedule.nextRuns[1] - added.body.schedule.nextRuns[0], 1_000);

    // Fires within one tick (200 ms) of each occurrence.
    await eventually(async () => (await scheduleTasks(un, "beat")).length >= 2, {
      timeoutMs: 10_000,
      message: "two fires of beat",
    });
    for (const task of await scheduleTasks(un, "beat")) {
      const late = task.createdAt - (task.payload.tick ?? 0);
      assert.ok(late >= 0 && late <= 200 + 150, `made ${late} ms after its occurrence`);
    }
    const seen = await getSchedule(un, "beat");
    assert.ok(seen.lastRun?.taskId, "the last run names its task");
    const ids = (await scheduleTasks(un, "beat")).map((t) => t.id);
    await eventually(async () =>
      ids.includes((await getSchedule(un, "beat")).lastRun?.taskId ?? "")
    );

    // Pause: no fire for 2 s; resume: fires again.
    const paused = await api<{ changed: boolean }>(un.url, "POST", "/un/schedules/beat/pause");
    assert.equal(paused.status, 200);
    assert.equal(paused.body.changed, true);
    await new Promise((r) => setTimeout(r, 400)); // a fire in flight lands
    const before = (await scheduleTasks(un, "beat")).length;
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal((await scheduleTasks(un, "beat")).length, before, "nothing while paused");
    assert.deepEqual((await getSchedule(un, "beat")).nextRuns, []);
    assert.equal((await api(un.url, "POST", "/un/schedules/beat/resume")).status, 200);
    await eventually(async () => (await scheduleTasks(un, "beat")).length > before, {
      timeoutMs: 5_000,
      message: "beat fires again after resume",
    });

    // Trigger: one task now, recorded as the last run.
    const triggered = await api<{ task: Task }>(un.url, "POST", "/un/schedules/hourly/trigger");
    assert.equal(triggered.status, 201, JSON.stringify(triggered.body));
    const hourly = await getSchedule(un, "hourly");
    assert.equal(hourly.origin, "config");
    assert.deepEqual(
      [hourly.lastRun?.by, hourly.lastRun?.taskId],
      ["trigger", triggered.body.task.id],
    );

    // Config schedules: read-only, but pausable.
    assert.equal((await api(un.url, "PATCH", "/un/schedules/hourly", { every: "2h" })).status, 409);
    assert.equal((await api(un.url, "DELETE", "/un/schedules/hourly")).status, 409);
    assert.equal((await api(un.url, "POST", "/un/schedules/hourly/pause")).status, 200);
    assert.equal((await getSchedule(un, "hourly")).paused, true);

    // Refusals.
    const unknown = await api(un.url, "POST", "/un/schedules", {
      id: "x",
      every: "1s",
      task: "no.such.type",
    });
    assert.equal(unknown.status, 400, JSON.stringify(unknown.body));
    const bad = await api(un.url, "POST", "/un/schedules", { id: "y", task: "noop" });
    assert.equal(bad.status, 400);
    const taken = await api(un.url, "POST", "/un/schedules", {
      id: "beat",
      every: "1s",
      task: "noop",
    });
    assert.equal(taken.status, 409);

    // PATCH and DELETE of an API schedule, and the events of each change.
    const patched = await api<{ schedule: ScheduleView }>(un.url, "PATCH", "/un/schedules/beat", {
      every: "1h",
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal((patched.body.schedule.spec as { every: number }).every, 3_600_000);

    const env = { UN_URL: un.url };
    const listed = await runCli(["schedules"], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /hourly\s+config\s+paused/);
    assert.match(listed.stdout, /beat\s+api\s+active/);
    const json = await runCli(["schedules", "--json"], env);
    assert.equal(JSON.parse(json.stdout).schedules.length, 2);

    assert.equal((await runCli(["schedules", "delete", "beat"], env)).code, 0);
    assert.equal((await api(un.url, "GET", "/un/schedules/beat")).status, 404);
    const types = new Set(
      (await history(un, "schedule.*")).map((e) => e.type),
    );
    for (const type of ["created", "paused", "resumed", "triggered", "updated", "deleted"]) {
      assert.ok(types.has(`schedule.${type}`), `schedule.${type}`);
    }
  } finally {
    await un.stop();
  }
});

const { ignore, suffix } = await redisForTests("schedules API");

Deno.test({
  name:
    `schedules API: on Redis, a schedule added in one process fires once per occurrence${suffix}`,
  ignore,
  async fn() {
    const prefix = `un_sched_${crypto.randomUUID().slice(0, 8)}:`;
    const shared = { ...config, redis: { url: REDIS_URL, prefix } };
    const a = await startUn({ config: shared });
    const b = await startUn({ config: shared });
    try {
      const res = await api(a.url, "POST", "/un/schedules", {
        id: "both",
        every: "1s",
        task: "noop",
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal((await getSchedule(b, "both")).origin, "api", "the other process lists it");
      await eventually(async () => (await scheduleTasks(a, "both")).length >= 4, {
        timeoutMs: 10_000,
        message: "four fires",
      });
      const ticks = (await scheduleTasks(a, "both")).map((t) => t.payload.tick);
      assert.equal(new Set(ticks).size, ticks.length, "one task per occurrence");
    } finally {
      await a.stop();
      await b.stop();
      await dropPrefix(prefix);
    }
  },
});
