/**
 * "Why is my task waiting?" against a real `un start`: each hold named in a
 * situation made for it (a dependency not done, a future runAt, a full rate
 * limit window, a paused queue, a resource running tasks hold, no process for
 * the type), the place in line with the count ahead at each priority, and
 * `un why` on the command line (exit 2 on bad input).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { WhyAnswer } from "../lib/tasks/why.ts";
import { createTask, taskState } from "./helpers/api.ts";
import { runCli } from "./helpers/cli.ts";
import { eventually } from "./helpers/eventually.ts";
import { api } from "./helpers/http.ts";
import { REPO, startUn, type UnProcess } from "./helpers/un-process.ts";

const HANDLERS = join(REPO, "tests/fixtures/bulk-handlers.ts");

async function why(un: UnProcess, id: string): Promise<WhyAnswer> {
  const res = await api<{ why: WhyAnswer }>(un.url, "GET", `/un/tasks/${id}/why`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.why;
}

const kinds = (answer: WhyAnswer) => answer.holds.map((h) => h.kind);

Deno.test("why names each hold and the place in line", async (t) => {
  await using un = await startUn({
    config: {
      handlers: HANDLERS,
      workers: {
        concurrency: 2,
        resources: { gpu: 1 },
        queues: ["default", "held", "slow", "gpu"],
      },
      queues: { slow: { rateLimit: { max: 1, perMs: 3_600_000 } } },
      hooks: [{ on: "app.ghost", task: "ghost", queue: "elsewhere" }],
    },
  });
  const busy = (ms: number, extra: Record<string, unknown> = {}) =>
    createTask(un, { type: "busy", payload: { ms }, ...extra });
  await api(un.url, "POST", "/un/queues/held/pause");

  await t.step("paused, with the place in line and the count ahead at each priority", async () => {
    const high = await busy(1, { queue: "held", priority: 9 });
    const low = await busy(1, { queue: "held", priority: 2 });
    const mid = await busy(1, { queue: "held", priority: 5 });
    const high2 = await busy(1, { queue: "held", priority: 9 });
    const answer = await why(un, mid.id);
    assert.deepEqual(kinds(answer), ["paused"]);
    assert.match(answer.holds[0].message, /queue held is paused/);
    assert.deepEqual(answer.position, { place: 3, ahead: 2, aheadByPriority: { 9: 2 } });
    assert.equal((await why(un, high.id)).position?.place, 1);
    assert.equal((await why(un, high2.id)).position?.place, 2);
    assert.deepEqual((await why(un, low.id)).position?.aheadByPriority, { 9: 2, 5: 1 });
    assert.ok(
      answer.sortKey.terms.some((term) => /priority 5/.test(term)),
      answer.sortKey.terms.join(),
    );
    assert.equal(answer.estimate, null, "a paused queue gives no estimate");
  });

  await t.step("waiting on a dependency: which one", async () => {
    const first = await busy(1, { queue: "held" });
    const after = await busy(1, { dependsOn: [first.id] });
    const answer = await why(un, after.id);
    assert.equal(answer.task.state, "waiting");
    assert.deepEqual(kinds(answer), ["dependencies"]);
    assert.deepEqual(answer.holds[0].dependencies, [
      { id: first.id, type: "busy", state: "queued" },
    ]);
  });

  await t.step("scheduled: until its runAt", async () => {
    const later = await busy(1, { delayMs: 600_000 });
    const answer = await why(un, later.id);
    assert.deepEqual(kinds(answer), ["scheduled"]);
    assert.equal(answer.holds[0].until, later.runAt);
    assert.equal(answer.estimate?.startAt, later.runAt);
  });

  await t.step("rate limited: until the window ends", async () => {
    const ran = await busy(1, { queue: "slow" });
    await eventually(async () => (await taskState(un, ran.id)).state === "succeeded" || null);
    const limited = await busy(1, { queue: "slow" });
    const answer = await why(un, limited.id);
    assert.deepEqual(kinds(answer), ["rateLimited"]);
    const hour = 3_600_000;
    assert.equal(answer.holds[0].until, (Math.floor(Date.now() / hour) + 1) * hour);
    assert.equal(answer.position?.place, 1);
  });

  await t.step("short of a resource that a running task holds", async () => {
    const holder = await busy(30_000, { queue: "gpu", resources: { gpu: 1 } });
    await eventually(async () => (await taskState(un, holder.id)).state === "running" || null);
    const waiting = await busy(1, { queue: "gpu", resources: { gpu: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const answer = await why(un, waiting.id);
    assert.equal(answer.task.state, "queued");
    assert.deepEqual(kinds(answer), ["resources"]);
    assert.deepEqual(answer.holds[0].resources, [{ resource: "gpu", needs: 1, most: 0 }]);
    const running = await why(un, holder.id);
    assert.equal(running.position, null);
    assert.match(running.summary, /^running since/);
    await api(un.url, "DELETE", `/un/tasks/${holder.id}`);
  });

  await t.step("no live process runs its type", async () => {
    await api(un.url, "POST", "/un/events/publish", { type: "app.ghost" });
    const ghost = await eventually(async () => {
      const res = await api<{ tasks: Array<{ id: string }> }>(
        un.url,
        "GET",
        "/un/tasks?type=ghost",
      );
      return res.body.tasks[0] ?? null;
    });
    const answer = await why(un, ghost.id);
    assert.deepEqual(kinds(answer), ["noProcess"]);
    assert.match(answer.holds[0].message, /no live process runs type ghost/);
  });

  await t.step("an unknown task is a 404", async () => {
    const res = await api(un.url, "GET", "/un/tasks/01NOSUCHTASK/why");
    assert.equal(res.status, 404);
  });

  await t.step(
    "un why prints the holds and the place; bad input exits 2 with one line",
    async () => {
      const queued = await busy(1, { queue: "held", priority: 7 });
      const printed = await runCli(["why", queued.id], { UN_URL: un.url });
      assert.equal(printed.code, 0, printed.stderr);
      assert.match(printed.stdout, /holds it: queue held is paused/);
      assert.match(printed.stdout, /place in line: 3 \(2 ahead: 2 at priority 9\)/);
      const json = await runCli(["why", queued.id, "--json"], { UN_URL: un.url });
      assert.equal(JSON.parse(json.stdout).task.id, queued.id);
      for (const args of [["why"], ["why", "a/b"], ["why", "a", "b"]]) {
        const bad = await runCli(args, { UN_URL: un.url });
        assert.equal(bad.code, 2, bad.stderr);
        assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
      }
    },
  );
});
