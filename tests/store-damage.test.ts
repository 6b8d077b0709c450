/**
 * A store file with damaged pages: `un start` refuses it naming the file and
 * the way out, `un store check` says it is damaged (exit 1), and
 * `un store recover` copies the readable rows into a fresh store that starts
 * and lists them, keeping the damaged file next to it.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./helpers/cli.ts";
import { api } from "./helpers/http.ts";
import { startUn } from "./helpers/un-process.ts";

const TASKS = 2_000;
const PAGE = 4_096;

interface Recovered {
  file: string;
  damagedFile: string;
  tables: Array<{ table: string; recovered: number; lost: number }>;
}

/** Random bytes over the first 512 bytes (header and cell pointers) of four pages mid-file. */
async function damage(file: string): Promise<void> {
  const pages = (await Deno.stat(file)).size / PAGE;
  using handle = await Deno.open(file, { read: true, write: true });
  for (const fraction of [0.3, 0.4, 0.5, 0.6]) {
    await handle.seek(Math.floor(pages * fraction) * PAGE, Deno.SeekMode.Start);
    await handle.write(crypto.getRandomValues(new Uint8Array(512)));
  }
}

async function scheduledCount(url: string): Promise<number> {
  const { body } = await api<{ queues: Record<string, { scheduled: number }> }>(
    url,
    "GET",
    "/un/queues",
  );
  return body.queues.default?.scheduled ?? 0;
}

Deno.test("damaged pages: start refuses, check exits 1, recover brings back the readable rows", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un_damage_" });
  const store = join(dir, ".un");
  const file = join(store, "un.db");
  const config = join(dir, "un.config.json");
  try {
    {
      await using un = await startUn({ cwd: dir });
      // Scheduled an hour ahead: the rows stay as written.
      for (let i = 0; i < TASKS; i += 1_000) {
        const tasks = Array.from({ length: 1_000 }, (_, j) => ({
          type: "noop",
          payload: { n: i + j, text: "lorem ipsum ".repeat(20) },
          delayMs: 3_600_000,
        }));
        const created = await api(un.url, "POST", "/un/tasks/create", { tasks });
        assert.equal(created.status, 201);
      }
      assert.equal(await scheduledCount(un.url), TASKS);
      // A clean stop checkpoints the WAL into the file and removes it.
      assert.equal((await un.stop()).code, 0);
    }
    const wal = await Deno.stat(`${file}-wal`).then((s) => s.size, () => 0);
    assert.equal(wal, 0, "the WAL is checkpointed after a clean stop");
    assert.equal((await runCli(["store", "check", "--config", config], {})).code, 0);

    await damage(file);

    const start = await runCli(["start", "--config", config], {});
    assert.notEqual(start.code, 0, "un start refuses a damaged store");
    assert.equal(start.code, 2);
    assert.ok(start.stderr.includes(`store file ${file} is damaged`), start.stderr);
    assert.match(start.stderr, /un store check/);
    assert.match(start.stderr, /un store recover/);

    const check = await runCli(["store", "check", "--config", config], {});
    assert.equal(check.code, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /damaged/);

    const recover = await runCli(["store", "recover", "--config", config, "--json"], {});
    assert.equal(recover.code, 0, recover.stderr);
    const report = JSON.parse(recover.stdout) as Recovered;
    const tasks = report.tables.find((t) => t.table === "tasks")!;
    assert.ok(tasks.recovered >= TASKS * 0.9, `recovered ${tasks.recovered} of ${TASKS} tasks`);
    assert.ok(tasks.recovered <= TASKS);
    assert.match(report.damagedFile, /un\.db\.damaged-/);
    await Deno.stat(report.damagedFile); // kept next to the fresh store

    assert.equal((await runCli(["store", "check", "--config", config], {})).code, 0);
    await using again = await startUn({ cwd: dir });
    assert.equal(await scheduledCount(again.url), tasks.recovered);
    const listed = await api<{ tasks: unknown[] }>(again.url, "GET", "/un/tasks?limit=100");
    assert.equal(listed.body.tasks.length, 100);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("un store recover prints each table's count; check on a store that does not exist exits 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un_damage_cli_" });
  try {
    {
      await using un = await startUn({ cwd: dir });
      const created = await api(un.url, "POST", "/un/tasks/create", { type: "noop" });
      assert.equal(created.status, 201);
    }
    const config = join(dir, "un.config.json");
    const recover = await runCli(["store", "recover"], { UN_CONFIG: config });
    assert.equal(recover.code, 0, recover.stderr);
    assert.match(recover.stdout, /tasks\s+1 rows recovered/);
    assert.match(recover.stdout, /the damaged file is kept as .*un\.db\.damaged-/);

    await Deno.writeTextFile(config, JSON.stringify({ store: { path: "elsewhere" } }));
    const missing = await runCli(["store", "check", "--config", config], {});
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no store at .*elsewhere\/un\.db/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
