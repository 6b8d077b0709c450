/**
 * `kill -9` with 1 000 queued and 16 running tasks, then start again on the
 * same store: every task ends succeeded, none is lost, and none that had
 * succeeded before the kill runs again (side effects are counted in a file).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { api } from "./helpers/http.ts";
import { REPO, startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const TOTAL = 1_016;

Deno.test("kill -9 loses no task and runs no succeeded task again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un_crash_" });
  const marks = join(dir, "marks.txt");
  const config = {
    handlers: join(REPO, "tests/fixtures/handlers.ts"),
    workers: { concurrency: 16 },
  };
  try {
    const first = await startUn({ cwd: dir, config });
    const tasks = Array.from({ length: TOTAL }, () => ({
      type: "mark",
      payload: { ms: 40, file: marks },
    }));
    const ids: string[] = [];
    for (const batch of [tasks.slice(0, 1_000), tasks.slice(1_000)]) {
      const created = await api<{ tasks: Array<{ id: string }> }>(
        first.url,
        "POST",
        "/un/tasks/create",
        { tasks: batch },
      );
      assert.equal(created.status, 201, JSON.stringify(created.body).slice(0, 300));
      ids.push(...created.body.tasks.map((t) => t.id));
    }

    // Kill while 16 run and most still wait, with some already done.
    const before = await eventually(async () => {
      const { body } = await api<{ queues: Record<string, Record<string, number>> }>(
        first.url,
        "GET",
        "/un/queues",
      );
      const q = body.queues.default;
      return q && q.running === 16 && q.succeeded >= 32 && q.queued >= 500 ? q : undefined;
    }, { timeoutMs: 15_000, message: "16 running, some succeeded, many queued" });
    const succeededBefore = await api<{ tasks: Array<{ id: string }> }>(
      first.url,
      "GET",
      "/un/tasks?state=succeeded&limit=1000",
    );
    await first.kill();
    const doneBefore = new Set(succeededBefore.body.tasks.map((t) => t.id));
    assert.ok(doneBefore.size >= before.succeeded, "the succeeded list was read before the kill");

    await using second = await startUn({ cwd: dir, config });
    await eventually(async () => {
      const { body } = await api<{ queues: Record<string, Record<string, number>> }>(
        second.url,
        "GET",
        "/un/queues",
      );
      return body.queues.default?.succeeded === TOTAL;
    }, { timeoutMs: 60_000, message: `all ${TOTAL} tasks to succeed after the restart` });

    const lines = (await Deno.readTextFile(marks)).trim().split("\n");
    const runs = new Map<string, number>();
    for (const id of lines) runs.set(id, (runs.get(id) ?? 0) + 1);
    for (const id of ids) assert.ok(runs.has(id), `task ${id} ran`);
    for (const id of doneBefore) {
      assert.equal(runs.get(id), 1, `task ${id} succeeded before the kill and must not run again`);
    }
    assert.match(second.stderrText(), /running when un last stopped are queued again/);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
