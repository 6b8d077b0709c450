/**
 * The event log's group commit, on a real embedded store: events made inside
 * the runtime wait up to `flushMs` to be written together; a publish that
 * waits for its write goes at once and takes them along; `flush()` writes
 * what waits, so a history read right after sees it.
 */

import assert from "node:assert/strict";
import { EventLog } from "../lib/events/event-log.ts";
import { createEvent } from "../lib/events/cloud-event.ts";
import { SqliteStore } from "../lib/store/sqlite/store.ts";

async function withLog(flushMs: number, fn: (log: EventLog, store: SqliteStore) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "un-event-log-" });
  const store = SqliteStore.open(dir);
  const log = new EventLog(store, (error) => {
    throw error;
  }, { flushMs });
  try {
    await fn(log, store);
  } finally {
    await log.close();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const event = (type: string) => createEvent({ type, source: "/un/tasks" });
const stored = async (store: SqliteStore) =>
  (await store.eventHistory({ limit: 100 })).map((e) => e.type);

Deno.test("event log: writes wait for the group commit; a waiting publish takes them along", async () => {
  await withLog(60_000, async (log, store) => {
    log.write(event("task.queued"));
    log.write(event("task.started"));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await stored(store), [], "still inside the commit window");
    await log.append(event("x.published"));
    assert.deepEqual(await stored(store), ["task.queued", "task.started", "x.published"]);
  });
});

Deno.test("event log: flush() writes what waits; the window ends on its own too", async () => {
  await withLog(60_000, async (log, store) => {
    log.write(event("a.one"));
    await log.flush();
    assert.deepEqual(await stored(store), ["a.one"]);
  });
  await withLog(30, async (log, store) => {
    log.write(event("b.one"));
    log.write(event("b.two"));
    const end = Date.now() + 5_000;
    while ((await stored(store)).length < 2 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(await stored(store), ["b.one", "b.two"]);
  });
});
