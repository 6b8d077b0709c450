/**
 * The fs scanner's pending-change bound (`sources[].maxPending`): with a bound
 * of 5, a burst of 40 new files does not grow the pending map past it; the
 * held paths are dropped for one rescan, logged once for the overflow, and
 * every file still gets exactly one `file.created`. Files written after the
 * rescan are reported one by one as usual.
 */

import assert from "node:assert/strict";
import type { LogFields, Logger } from "../lib/log.ts";
import { eventually } from "./helpers/eventually.ts";
import { quiet, scanned, seen, withTree, write } from "./helpers/fs-scanner.ts";

/** A logger that keeps its warnings. */
function warningsLogger(warnings: { message: string; fields?: LogFields }[]): Logger {
  const log: Logger = {
    debug() {},
    info() {},
    warn: (message, fields) => warnings.push({ message, fields }),
    error() {},
    child: () => log,
  };
  return log;
}

Deno.test("past maxPending the scanner falls back to one rescan and loses no change", async () => {
  await withTree({ emitExisting: false, maxPending: 5 }, async ({ root, store, deps, start }) => {
    const warnings: { message: string; fields?: LogFields }[] = [];
    (deps as { log: Logger }).log = warningsLogger(warnings);
    const run = start();
    await scanned(store);
    const names = Array.from({ length: 40 }, (_, i) => `burst/f${String(i).padStart(2, "0")}.txt`);
    await Promise.all(names.map((name) => write(root, name, name)));
    await eventually(() => run.events.length >= names.length, {
      timeoutMs: 10_000,
      message: "an event for every file of the burst",
    });
    await quiet();
    assert.deepEqual(seen(run.events).sort(), names.map((name) => `file.created ${name}`));
    const overflows = warnings.filter((w) => /too many pending file changes/.test(w.message));
    assert.equal(overflows.length, 1, JSON.stringify(warnings));
    assert.equal(overflows[0].fields?.maxPending, 5);

    // After the rescan, a file is reported on its own again.
    await write(root, "after.txt", "a");
    await eventually(() => run.events.length >= names.length + 1, {
      timeoutMs: 10_000,
      message: "an event for after.txt",
    });
    await quiet();
    assert.deepEqual(seen(run.events.slice(names.length)), ["file.created after.txt"]);
  });
});
