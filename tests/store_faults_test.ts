/**
 * A fault under a running embedded store is never silent: the store directory
 * deleted (`rm -rf .un`) makes `/health` degraded and writes 503 naming the
 * path within a scheduler tick; a full disk makes writes 507 and `/health`
 * degraded until space is back, and loses nothing acknowledged. Each fault is
 * one ERROR line in the log.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { api, eventually } from "./helpers/http.ts";
import { startUn } from "./helpers/un_process.ts";

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

/** Mounts a tmpfs of `size` at a new temp dir; null (with the reason) when this host cannot. */
async function mountTmpfs(size: string): Promise<{ dir: string } | { skip: string }> {
  if (Deno.build.os !== "linux") return { skip: "tmpfs mounts need Linux" };
  const dir = await Deno.makeTempDir({ prefix: "un_full_" });
  const out = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
    stdout: "null",
    stderr: "piped",
  }).output().catch((err) => ({ success: false, stderr: new TextEncoder().encode(String(err)) }));
  if (!out.success) {
    await Deno.remove(dir);
    return { skip: `cannot mount tmpfs: ${new TextDecoder().decode(out.stderr).trim()}` };
  }
  return { dir };
}

/** Fills the file system holding `path` with one file until it refuses. */
async function fill(path: string): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true });
  for (const size of [65_536, 4_096, 512]) {
    const chunk = new Uint8Array(size);
    try {
      for (;;) await file.write(chunk);
    } catch (err) {
      if (!/No space left|os error 28/i.test(String(err))) throw err;
    }
  }
}

const probe = await mountTmpfs("2m");
const skipReason = "skip" in probe ? probe.skip : null;
if ("dir" in probe) {
  await new Deno.Command("umount", { args: [probe.dir] }).output();
  await Deno.remove(probe.dir);
}

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
      await eventually(
        async () => (await create(-2)).status === 201,
        10_000,
        "a create to succeed after space was freed",
      );
      await eventually(
        async () => (await api<Health>(first.url, "GET", "/health")).body.status === "ok",
        10_000,
        "health ok again",
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
      await new Deno.Command("umount", { args: ["-l", mounted.dir] }).output();
      await Deno.remove(mounted.dir, { recursive: true }).catch(() => {});
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  },
});
