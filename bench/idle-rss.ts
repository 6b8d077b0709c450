/**
 * idle_rss_mb: resident memory of a real `un start` (embedded store, one
 * watched directory, API up) after it has been idle for a few seconds.
 */

import { join } from "node:path";
import { START_FLAGS } from "../cli/start-flags.ts";
import { report } from "./harness.ts";

const IDLE_MS = 3_000;
const main = new URL("../main.ts", import.meta.url).pathname;
const dir = await Deno.makeTempDir({ prefix: "un-bench-rss-" });
await Deno.mkdir(join(dir, "inbox"));
await Deno.writeTextFile(
  join(dir, "un.config.json"),
  JSON.stringify({
    api: { port: 0 },
    sources: [{ id: "inbox", kind: "fs", path: "./inbox" }],
    hooks: [{ on: "file.*", task: "file.metadata" }],
  }),
);
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    ...START_FLAGS,
    main,
    "start",
    "--config",
    join(dir, "un.config.json"),
  ],
  cwd: dir,
  stdout: "piped",
  stderr: "null",
}).spawn();
const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let first = "";
while (!first.includes("\n")) {
  const { value, done } = await reader.read();
  if (done) throw new Error("un start exited before printing its URL");
  first += value;
}
await new Promise((r) => setTimeout(r, IDLE_MS));
const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
child.kill("SIGTERM");
await reader.cancel();
await child.status;
await Deno.remove(dir, { recursive: true });
report({ idle_rss_mb: Math.round((rssKb / 1024) * 10) / 10 });
