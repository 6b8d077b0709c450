/**
 * A fault under a running embedded store is never silent: the store directory
 * deleted (`rm -rf .un`) makes `/health` degraded and writes 503 naming the
 * path within a scheduler tick; a full disk makes writes 507 and `/health`
 * degraded until space is back, and loses nothing acknowledged. Each fault is
 * one ERROR line in the log.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { api } from "./helpers/http.ts";
import { fill, mountTmpfs, tmpfsSkipReason, unmountTmpfs } from "./helpers/tmpfs.ts";
import { startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

interface Health {
  status: string;
  store: { ok: boolean; error?: string };
  problems: string[];
}

function errorLines(log: string, pattern: RegExp): string[] {
  return log.split("\n").filter((line) => / ERROR /.test(line) && pattern.test(line));
}

Deno.test("rm -rf of the store while running: degraded and 503 within a tick, one ERROR", async () => {
  const tickMs = 50;
  await using un = await startUn({ config: { scheduler: { tickMs } } });
  const store = join(un.dir, ".un");
  const created = await api(un.url, "POST", "/un/tasks/create", { type: "noop" });
  assert.equal(created.status, 201);

  await Deno.remove(store, { recursive: true });
  // One tick for the store's own watch to notice.
  await new Promise((resolve) => setTimeout(resolve, tickMs * 2));

  const write = await api<{ error: { code: string; message: string } }>(
    un.url,
    "POST",
    "/un/tasks/create",
    { type: "noop" },
  );
  assert.equal(write.status, 503, JSON.stringify(write.body));
  assert.equal(write.body.error.code, "store_gone");
  assert.ok(write.body.error.message.includes(store), write.body.error.message);
  assert.match(write.body.error.message, /restart un/i);

  const health = await api<Health>(un.url, "GET", "/health");
  assert.equal(health.status, 503);
  assert.equal(health.body.status, "degraded");
  assert.equal(health.body.store.ok, false);
  assert.ok(
    health.body.problems.some((p) =>
      p.startsWith(`store ${store} was deleted while un was running`)
    ),
    health.body.problems.join("; "),
  );

  // Several ticks later, still one ERROR about it.
  await new Promise((resolve) => setTimeout(resolve, tickMs * 10));
  await api(un.url, "POST", "/un/tasks/create", { type: "noop" });
  assert.equal(errorLines(un.stderrText(), /was deleted while un was running/).length, 1);
});

const skipReason = await tmpfsSkipReason();

Deno.test({
  name: skipReason === null
    ? "disk full: writes 507, health degraded; after freeing space writes succeed, nothing acknowledged lost"
    : `disk full (ignored: ${skipReason})`,
  ignore: skipReason !== null,
  fn: async () => {
    const mounted = await mountTmpfs("2m");
    if ("skip" in mounted) throw new Error(mounted.skip);
    const store = join(mounted.dir, ".un");
    const filler = join(mounted.dir, "filler");
    const work = await Deno.makeTempDir({ prefix: "un_full_work_" });
    try {
      const config = { store: { path: store }, scheduler: { tickMs: 50 } };
      await using first = await startUn({ cwd: work, config });
      const acknowledged: string[] = [];
      const create = async (n: number) => {
        const res = await api<{ task?: { id: string }; error?: { code: string; message: string } }>(
          first.url,
          "POST",
          "/un/tasks/create",
          { type: "noop", payload: { n, pad: "x".repeat(2_000) }, delayMs: 3_600_000 },
        );
        if (res.status === 201) acknowledged.push(res.body.task!.id);
        return res;
      };
      for (let n = 0; n < 20; n++) assert.equal((await create(n)).status, 201);

      await fill(filler);
      let full: Awaited<ReturnType<typeof create>> | undefined;
      for (let n = 20; n < 2_000 && !full; n++) {
        const res = await create(n);
        assert.ok(
          res.status === 201 || res.status === 507,
          `create: ${res.status} ${JSON.stringify(res.body)}`,
        );
        if (res.status === 507) full = res;
      }
      assert.ok(full, "creates got 507 once the disk was full");
      assert.equal(full.body.error?.code, "store_disk");
      assert.match(full.body.error!.message, new RegExp(`the disk holding ${store} is full`));

      const degraded = await api<Health>(first.url, "GET", "/health");
      assert.equal(degraded.body.status, "degraded");
      assert.ok(
        degraded.body.problems.some((p) => p.startsWith(`the disk holding ${store} is full`)),
        degraded.body.problems.join("; "),
      );
      // Still full: more writes fail the same way, and the log said it once.
      assert.equal((await create(-1)).status, 507);
      assert.equal(
        errorLines(first.stderrText(), /is full/).length,
        1,
        first.stderrText().slice(-3_000),
      );

      await Deno.remove(filler);
      await eventually(async () => (await create(-2)).status === 201, {
        timeoutMs: 10_000,
        message: "a create to succeed after space was freed",
      });
      await eventually(
        async () => (await api<Health>(first.url, "GET", "/health")).body.status === "ok",
        { timeoutMs: 10_000, message: "health ok again" },
      );
      assert.match(first.stderrText(), /store writes reach the disk again/);

      // Nothing acknowledged is lost, also across a restart.
      assert.equal((await first.stop()).code, 0);
      await using second = await startUn({ cwd: work, config });
      for (const id of acknowledged) {
        const got = await api(second.url, "GET", `/un/tasks/${id}`);
        assert.equal(got.status, 200, `acknowledged task ${id} is still there`);
      }
    } finally {
      await unmountTmpfs(mounted.dir);
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  },
});
