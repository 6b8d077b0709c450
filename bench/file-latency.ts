/**
 * file_to_task_p99_ms: from just before a file is written to the moment its
 * task's handler starts, with a 50 ms debounce (which is part of the figure).
 */

import { join } from "node:path";
import { parseConfig } from "../lib/config/load.ts";
import type { Json } from "../lib/events/cloud-event.ts";
import { loadHandlers } from "../lib/handlers/load.ts";
import { silentLogger } from "../lib/log.ts";
import { Runtime } from "../runtime/runtime.ts";
import { percentile, report, until } from "./harness.ts";

const FILES = 200;
const GAP_MS = 15;

const dir = await Deno.makeTempDir({ prefix: "un-bench-fs-" });
const watched = join(dir, "watched");
await Deno.mkdir(watched);
const config = parseConfig({
  store: { path: join(dir, "store") },
  workers: { concurrency: 4 },
  sources: [{ id: "w", kind: "fs", path: watched, debounceMs: 50 }],
  hooks: [{ on: "file.created", task: "probe" }],
});
const startedAt = new Map<string, number>();
const handlers = {
  ...(await loadHandlers(config, { cwd: dir })),
  probe: (task: { payload: Json }) => {
    startedAt.set((task.payload as { path: string }).path, performance.now());
    return null;
  },
};
const runtime = await Runtime.start({ config, handlers, log: silentLogger, inspect: false });
await new Promise((r) => setTimeout(r, 300)); // the watcher is up

const writtenAt = new Map<string, number>();
for (let i = 0; i < FILES; i++) {
  const path = join(watched, `f${i}.txt`);
  writtenAt.set(path, performance.now());
  await Deno.writeTextFile(path, `file ${i}`);
  await new Promise((r) => setTimeout(r, GAP_MS));
}
await until(() => startedAt.size >= FILES, 30_000, "every file's task to start");
const latencies = [...writtenAt].map(([path, t]) => startedAt.get(path)! - t);
await runtime.stop("bench");
await Deno.remove(dir, { recursive: true });
report({
  file_to_task_p50_ms: Math.round(percentile(latencies, 50) * 10) / 10,
  file_to_task_p99_ms: Math.round(percentile(latencies, 99) * 10) / 10,
});
