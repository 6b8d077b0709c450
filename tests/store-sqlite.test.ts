/**
 * The embedded SQLite store: the shared conformance suite, plus what only a
 * file-backed store promises (acknowledged writes survive `kill -9`, a reopened
 * store sees the same data, group commit isolates a failing write).
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sourceSchema } from "../lib/config/schema.ts";
import { ValidationError } from "../lib/errors.ts";
import { SQLITE_FILE, SqliteStore } from "../lib/store/sqlite/store.ts";
import type { Store } from "../lib/store/types.ts";
import { cloudEvent, newTask, runStoreConformance, T0 } from "./store/conformance.ts";

const dirs = new Map<Store, string>();

runStoreConformance(
  "sqlite",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "un-store-" });
    const store = SqliteStore.open(dir);
    dirs.set(store, dir);
    return store;
  },
  async (store) => {
    await store.close();
    const dir = dirs.get(store);
    dirs.delete(store);
    if (dir !== undefined) await Deno.remove(dir, { recursive: true });
  },
);

/** Runs `body` with a temp directory that is removed afterwards. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "un-sqlite-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("sqlite store: open creates the directory and <dir>/un.db", async () => {
  await inTempDir(async (root) => {
    const dir = join(root, "nested", ".un");
    const store = SqliteStore.open(dir);
    try {
      assert.ok(existsSync(join(dir, SQLITE_FILE)));
      await store.ping();
    } finally {
      await store.close();
    }
  });
});

Deno.test("sqlite store: a reopened store sees the same tasks, events and sources", async () => {
  await inTempDir(async (dir) => {
    const first = SqliteStore.open(dir);
    const { task } = await first.enqueue(newTask({ key: "keep", payload: { a: [1, 2] } }), T0);
    const event = cloudEvent("file.created", T0, { path: "a.md" });
    await first.appendEvents([event]);
    await first.putSource({
      id: "docs",
      kind: "fs",
      enabled: true,
      spec: sourceSchema.parse({ id: "docs", kind: "fs", path: "./docs" }),
      origin: "config",
      createdAt: T0,
      updatedAt: T0,
    });
    await first.setSourceState("docs", "cursor", { n: 3 });
    await first.close();

    const second = SqliteStore.open(dir);
    try {
      assert.deepEqual(await second.getTask(task.id), task);
      assert.equal((await second.enqueue(newTask({ key: "keep" }), T0)).deduplicated, true);
      assert.deepEqual(await second.eventHistory({ limit: 10 }), [event]);
      assert.deepEqual((await second.listSources()).map((s) => [s.id, s.spec?.kind]), [
        ["docs", "fs"],
      ]);
      assert.deepEqual(await second.getSourceState("docs", "cursor"), { n: 3 });
    } finally {
      await second.close();
    }
  });
});

Deno.test("sqlite store: a failing write rolls back only itself", async () => {
  await inTempDir(async (dir) => {
    const store = SqliteStore.open(dir);
    const before = newTask();
    const after = newTask();
    const outcomes = await Promise.allSettled([
      store.enqueue(before, T0),
      store.enqueue(newTask({ dependsOn: ["missing"] }), T0),
      store.enqueue(after, T0),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ["fulfilled", "rejected", "fulfilled"]);
    assert.ok((outcomes[1] as PromiseRejectedResult).reason instanceof ValidationError);
    await store.close();
    const reopened = SqliteStore.open(dir);
    try {
      assert.deepEqual(
        (await reopened.listTasks({})).map((t) => t.id).sort(),
        [before.id, after.id].sort(),
      );
    } finally {
      await reopened.close();
    }
  });
});

Deno.test("sqlite store: close() commits writes still pending", async () => {
  await inTempDir(async (dir) => {
    const store = SqliteStore.open(dir);
    const pending = store.enqueue(newTask({ key: "last-words" }), T0);
    await store.close();
    const { task } = await pending;
    const reopened = SqliteStore.open(dir);
    try {
      assert.equal((await reopened.getTask(task.id))?.key, "last-words");
    } finally {
      await reopened.close();
    }
  });
});

/** A child process that enqueues and completes tasks, printing each one only after its write was acknowledged. */
const WRITER = (storeUrl: string, helpersUrl: string) => `
import { SqliteStore } from ${JSON.stringify(storeUrl)};
import { newTask } from ${JSON.stringify(helpersUrl)};
const store = SqliteStore.open(Deno.args[0]);
for (let now = 1; ; now++) {
  const batch = Array.from({ length: 8 }, () => store.enqueue(newTask(), now));
  for (const write of batch) console.log("enqueued " + (await write).task.id);
  const running = await store.claim({ workerId: "child", queues: null, leaseMs: 60000, now });
  if (running) {
    await store.complete(running.id, running.fence, { ok: now }, now);
    console.log("completed " + running.id);
  }
}
`;

Deno.test("sqlite store: kill -9 loses no acknowledged write", async () => {
  await inTempDir(async (dir) => {
    const script = join(dir, "writer.ts");
    await Deno.writeTextFile(
      script,
      WRITER(
        new URL("../lib/store/sqlite/store.ts", import.meta.url).href,
        new URL("./store/conformance/helpers.ts", import.meta.url).href,
      ),
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        `--config=${fileURLToPath(new URL("../deno.json", import.meta.url))}`,
        script,
        join(dir, "store"),
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();

    const enqueued: string[] = [];
    const completed: string[] = [];
    let killed = false;
    let buffered = "";
    const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const errors = (async () => {
      let text = "";
      for (let r = await stderr.read(); !r.done; r = await stderr.read()) text += r.value;
      return text;
    })();
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const [what, id] = line.split(" ");
        if (what === "enqueued") enqueued.push(id);
        if (what === "completed") completed.push(id);
      }
      if (!killed && completed.length >= 200) {
        child.kill("SIGKILL");
        killed = true;
      }
    }
    const status = await child.status;
    const stderrText = await errors;
    assert.ok(killed, `the writer stopped on its own: ${stderrText}`);
    assert.equal(status.signal, "SIGKILL");

    const store = SqliteStore.open(join(dir, "store"));
    try {
      for (const id of enqueued) {
        assert.ok(await store.getTask(id), `acknowledged task ${id} survived`);
      }
      for (const id of completed) {
        assert.equal((await store.getTask(id))?.state, "succeeded", `completion of ${id} survived`);
      }
      assert.ok(enqueued.length >= 1_600);
    } finally {
      await store.close();
    }
  });
});
