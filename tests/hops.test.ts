/**
 * How often one file event passes the supervisor on its way to
 * `task.succeeded`, counted with the inspector's recording: the scanner's
 * event, the hook's enqueue (to the prioritizer) and the ready notice (to the
 * pool). The task's own events (`task.queued`, `task.started`,
 * `task.succeeded`) go to the bus without a message.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseConfig } from "../lib/config/load.ts";
import type { InspectRecord } from "../lib/control.ts";
import { loadHandlers } from "../lib/handlers/load.ts";
import { silentLogger } from "../lib/log.ts";
import { Runtime } from "../runtime/runtime.ts";
import { eventually } from "./helpers/eventually.ts";

Deno.test("one file event passes the supervisor three times on its way to task.succeeded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un-hops-" });
  const watched = join(dir, "watched");
  await Deno.mkdir(watched);
  const config = parseConfig({
    store: { path: join(dir, "store") },
    workers: { concurrency: 2 },
    sources: [{ id: "w", kind: "fs", path: watched, debounceMs: 20 }],
    hooks: [{ on: "file.created", task: "probe" }],
  });
  const handlers = { ...(await loadHandlers(config, { cwd: dir })), probe: () => null };
  const runtime = await Runtime.start({ config, handlers, log: silentLogger, inspect: true });
  try {
    const records: InspectRecord[] = [];
    const stop = runtime.inspect.subscribe((record) => records.push(record));
    const lifecycle: string[] = [];
    runtime.subscribe("task.*", (event) => lifecycle.push(event.type));
    // Warm-up: once a first file's task ran, the watcher is up.
    for (let tries = 0; !lifecycle.includes("task.succeeded") && tries < 50; tries++) {
      await Deno.writeTextFile(join(watched, `warm-up-${tries}.txt`), "up?");
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 200));
    lifecycle.length = 0;
    records.length = 0;

    const files = 3;
    for (let i = 0; i < files; i++) {
      const before = lifecycle.length;
      await Deno.writeTextFile(join(watched, `f${i}.txt`), `file ${i}`);
      await eventually(() => lifecycle.slice(before).includes("task.succeeded"), {
        timeoutMs: 5_000,
        message: `the task of file ${i}`,
      });
    }
    await new Promise((r) => setTimeout(r, 100));
    stop();

    const toSupervisor = records.filter((r) => r.to === "supervisor").map((r) => r.type);
    const count = (type: string) => toSupervisor.filter((t) => t === type).length;
    assert.equal(toSupervisor.length, 3 * files, JSON.stringify(toSupervisor));
    assert.equal(count("event.publish"), files);
    assert.equal(count("task.enqueue"), files);
    assert.equal(count("task.ready"), files);
    assert.deepEqual(lifecycle.filter((t) => t === "task.succeeded").length, files);
    assert.ok(!toSupervisor.some((t) => t.startsWith("event.emit")), "task events are no message");
  } finally {
    await runtime.stop("test done");
    await Deno.remove(dir, { recursive: true });
  }
});
