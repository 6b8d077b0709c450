/**
 * ScheduleStore conformance cases: schedules stored, listed in order,
 * replaced, added atomically, deleted with their last run; a definition that
 * no longer parses listed with the reason; a last run never moved back.
 */

import assert from "node:assert/strict";
import { parseSchedule } from "../../../lib/schedules/manage.ts";
import type { ScheduleStore, StoredSchedule } from "../../../lib/store/schedule-store.ts";
import type { StoreCase } from "./helpers.ts";
import { T0 } from "./helpers.ts";

function schedule(id: string, at: number, extra: Partial<StoredSchedule> = {}): StoredSchedule {
  return {
    id,
    origin: "api",
    paused: false,
    spec: parseSchedule({ id, every: "1m", task: "noop" }),
    createdAt: at,
    updatedAt: at,
    ...extra,
  };
}

/** One case per rule of the schedule side of the store. */
export const scheduleCases: Record<string, StoreCase<ScheduleStore>> = {
  "put, get and list (by createdAt, then id)": async (store) => {
    assert.deepEqual(await store.listSchedules(), []);
    await store.putSchedule(schedule("b", T0 + 1));
    await store.putSchedule(schedule("c", T0));
    await store.putSchedule(schedule("a", T0 + 1));
    assert.deepEqual((await store.listSchedules()).map((s) => s.id), ["c", "a", "b"]);
    assert.deepEqual(await store.getSchedule("c"), schedule("c", T0));
    assert.equal(await store.getSchedule("nope"), null);
  },
  "put replaces; a config schedule's record holds only its switch": async (store) => {
    await store.putSchedule(schedule("a", T0));
    await store.putSchedule(schedule("a", T0, { paused: true, updatedAt: T0 + 5 }));
    assert.equal((await store.getSchedule("a"))?.paused, true);
    const record = schedule("cfg", T0, { origin: "config", spec: null, paused: true });
    await store.putSchedule(record);
    assert.deepEqual(await store.getSchedule("cfg"), record);
  },
  "putScheduleIfAbsent stores once, then answers with the stored one": async (store) => {
    assert.equal(await store.putScheduleIfAbsent(schedule("a", T0)), null);
    const again = await store.putScheduleIfAbsent(schedule("a", T0 + 9, { paused: true }));
    assert.deepEqual(again, schedule("a", T0));
    assert.deepEqual(await store.getSchedule("a"), schedule("a", T0));
  },
  "delete removes the schedule and its last run": async (store) => {
    await store.putSchedule(schedule("a", T0));
    await store.recordScheduleRun("a", { tick: T0, at: T0, taskId: "t", by: "schedule" });
    assert.equal(await store.deleteSchedule("a"), true);
    assert.equal(await store.deleteSchedule("a"), false);
    assert.equal(await store.getSchedule("a"), null);
    assert.deepEqual(await store.scheduleRuns(), {});
  },
  "a stored definition that no longer parses is listed with the reason": async (store) => {
    const bad = {
      ...schedule("x", T0),
      spec: { id: "x", every: "1m" },
    } as unknown as StoredSchedule;
    await store.putSchedule(bad);
    const [listed] = await store.listSchedules();
    assert.equal(listed.spec, null);
    assert.match(listed.error ?? "", /task/);
  },
  "recordScheduleRun keeps the latest run; the task id fills in its own tick": async (store) => {
    await store.recordScheduleRun("a", {
      tick: T0 + 60,
      at: T0 + 61,
      taskId: null,
      by: "schedule",
    });
    await store.recordScheduleRun("a", { tick: T0, at: T0 + 62, taskId: "old", by: "schedule" });
    assert.equal((await store.scheduleRuns()).a.tick, T0 + 60, "an older tick does not win");
    await store.recordScheduleRun("a", {
      tick: T0 + 60,
      at: T0 + 61,
      taskId: "t1",
      by: "schedule",
    });
    await store.recordScheduleRun("a", {
      tick: T0 + 60,
      at: T0 + 61,
      taskId: null,
      by: "schedule",
    });
    assert.deepEqual((await store.scheduleRuns()).a, {
      tick: T0 + 60,
      at: T0 + 61,
      taskId: "t1",
      by: "schedule",
    });
  },
};
