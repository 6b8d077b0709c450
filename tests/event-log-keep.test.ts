/**
 * The event log while the store refuses writes, on a stand-in store that can
 * be switched off: events of accepted work (`task.*`, `batch.*`, `store.*`)
 * are kept whatever their number and written in order once the store takes
 * them; other events count against `bufferMax` (the excess of `write` is
 * dropped and counted, a publish past it is refused); while Redis is out of
 * memory a publish is refused at once (503) and never written later.
 */

import assert from "node:assert/strict";
import { OutOfMemoryError, UnavailableError } from "../lib/errors.ts";
import { EventLog, type EventLogStatus, isAcceptedWork } from "../lib/events/event-log.ts";
import { type CloudEvent, createEvent } from "../lib/events/cloud-event.ts";
import type { Store } from "../lib/store/types.ts";
import { eventually } from "./helpers/eventually.ts";

/** A store whose event writes fail with `refusal` while it is set. */
class SwitchedStore {
  refusal: Error | null = null;
  readonly written: CloudEvent[] = [];

  appendEvents(events: CloudEvent[]): Promise<void> {
    if (this.refusal) return Promise.reject(this.refusal);
    this.written.push(...events);
    return Promise.resolve();
  }

  asStore(): Store {
    return this as unknown as Store;
  }
}

const event = (type: string, i = 0) => createEvent({ type, source: "/un/test", data: { i } });

Deno.test("event log: accepted work's events are never dropped while the store is away", async () => {
  const store = new SwitchedStore();
  const statuses: EventLogStatus[] = [];
  const log = new EventLog(store.asStore(), (error) => {
    throw error;
  }, { bufferMax: 3, retryBaseMs: 10, retryMaxMs: 20, onStatus: (s) => statuses.push(s) });
  try {
    store.refusal = new UnavailableError("redis is unreachable (not connected)");
    log.write(event("file.created", 0));
    await eventually(() => log.failingSince !== null, {
      intervalMs: 5,
      message: "the outage to be noticed",
    });

    const tasks = Array.from(
      { length: 20 },
      (_, i) => event(i % 2 ? "task.succeeded" : "task.started", i),
    );
    for (const e of tasks) assert.equal(log.write(e), true, "kept, past bufferMax");
    assert.equal(log.write(event("batch.completed")), true);
    assert.equal(log.write(event("store.reset")), true);
    // Two more of other events fill the bound (one waits already); the rest are dropped.
    const others = Array.from({ length: 5 }, (_, i) => log.write(event("file.created", i + 1)));
    assert.deepEqual(others, [true, true, false, false, false]);
    assert.equal(log.dropped, 3);
    await assert.rejects(log.append(event("x.published")), /^UnavailableError: event buffer full/);
    assert.equal(log.pending, 1 + 20 + 2 + 2);
    assert.ok(statuses.some((s) => s.kind === "dropping"));

    store.refusal = null;
    await log.flush();
    await eventually(() => log.pending === 0, {
      intervalMs: 5,
      message: "the buffer to be written",
    });
    const ids = store.written.map((e) => e.id);
    for (const e of tasks) assert.ok(ids.includes(e.id), `${e.type} ${e.id} written`);
    // In the order they were made.
    const taskOrder = store.written.filter((e) => e.type.startsWith("task.")).map((e) => e.id);
    assert.deepEqual(taskOrder, tasks.map((e) => e.id));
    assert.equal(await log.append(event("x.after")), undefined, "publishes are taken again");
  } finally {
    await log.close();
  }
});

Deno.test("event log: while Redis is out of memory a publish is refused, task events wait", async () => {
  const store = new SwitchedStore();
  const log = new EventLog(store.asStore(), (error) => {
    throw error;
  }, { bufferMax: 100, retryBaseMs: 10, retryMaxMs: 20 });
  try {
    store.refusal = new OutOfMemoryError("redis is out of memory (OOM command not allowed)");
    log.write(event("task.queued"));
    const refused = event("x.published");
    await assert.rejects(log.append(refused), (error: unknown) => {
      assert.ok(error instanceof OutOfMemoryError);
      assert.match(error.message, /out of memory/);
      return true;
    });
    // Known now: the next publish is refused without a try.
    await assert.rejects(log.append(event("x.again")), OutOfMemoryError);
    assert.equal(log.pending, 1, "only the task's event waits");

    store.refusal = null;
    await eventually(() => log.pending === 0, {
      intervalMs: 5,
      message: "the task event to be written",
    });
    assert.deepEqual(store.written.map((e) => e.type), ["task.queued"]);
    assert.ok(!store.written.some((e) => e.id === refused.id), "a refused publish is not written");
  } finally {
    await log.close();
  }
});

Deno.test("event log: which events are of accepted work", () => {
  for (const type of ["task.queued", "task.progress", "batch.completed", "store.reset"]) {
    assert.equal(isAcceptedWork(type), true, type);
  }
  for (
    const type of ["file.created", "feed.item.new", "tasks.note", "x.task.y", "actor.restarted"]
  ) {
    assert.equal(isAcceptedWork(type), false, type);
  }
});
