/**
 * Schedules managed at run time (`/un/schedules`): a plain module, no actor
 * code. The schedules in effect are the config file's (read-only, `origin:
 * "config"`, but pausable: only their pause switch is stored) and the ones
 * added through the API (`origin: "api"`, stored whole). Definitions are
 * validated with the config's own `scheduleSchema`, so the API and
 * `un.config.json` accept the same schedules; an add is one atomic store
 * step, so two processes adding one id cannot both succeed. The scheduler
 * reads the schedules in effect from the store every tick, so a change made
 * in any process applies everywhere within one tick; `schedule.*` events
 * announce it.
 */

import { scheduleSchema, type ScheduleSpec } from "../config/schema.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { type CloudEvent, createEvent, type Json } from "../events/cloud-event.ts";
import type { ScheduleRun, ScheduleStore, StoredSchedule } from "../store/schedule-store.ts";
import { nextRuns } from "./occurrences.ts";

/** The `source` of every `schedule.*` event made through the API. */
export const SCHEDULE_EVENT_SOURCE = "/un/api";

/** What happened to a schedule; the event type is `schedule.<change>`. */
export type ScheduleChange = "created" | "updated" | "deleted" | "paused" | "resumed" | "triggered";

/** How many next fire times a view shows. */
export const NEXT_RUNS = 5;

/** A schedule in effect: its definition (null when a stored one no longer parses) and pause switch. */
export type ActiveSchedule = StoredSchedule;

/** A schedule as the API shows it: with its next fire times and its last run. */
export interface ScheduleView extends StoredSchedule {
  /** The next fire times (epoch ms); empty while paused or when it never fires again. */
  nextRuns: number[];
  /** The last run and its task id; null before the first. */
  lastRun: ScheduleRun | null;
}

/**
 * The schedules in effect: the config file's first (with their stored pause
 * switch), then the stored ones added through the API.
 */
export function mergeSchedules(
  config: readonly ScheduleSpec[],
  stored: readonly StoredSchedule[],
): ActiveSchedule[] {
  const byId = new Map(stored.map((s) => [s.id, s]));
  const fromConfig = config.map((spec): ActiveSchedule => {
    const record = byId.get(spec.id);
    return {
      id: spec.id,
      origin: "config",
      paused: record?.origin === "config" && record.paused,
      spec,
      createdAt: record?.createdAt ?? 0,
      updatedAt: record?.updatedAt ?? 0,
    };
  });
  const configIds = new Set(config.map((s) => s.id));
  return [...fromConfig, ...stored.filter((s) => s.origin === "api" && !configIds.has(s.id))];
}

/** Every schedule in effect. */
export async function listActive(
  store: Pick<ScheduleStore, "listSchedules">,
  config: readonly ScheduleSpec[],
): Promise<ActiveSchedule[]> {
  return mergeSchedules(config, await store.listSchedules());
}

/** One schedule in effect, or NotFoundError. */
export async function mustGetSchedule(
  store: Pick<ScheduleStore, "listSchedules">,
  config: readonly ScheduleSpec[],
  id: string,
): Promise<ActiveSchedule> {
  const found = (await listActive(store, config)).find((s) => s.id === id);
  if (!found) throw new NotFoundError("schedule", id);
  return found;
}

/** The API view of a schedule at `now`. */
export function viewSchedule(
  schedule: ActiveSchedule,
  lastRun: ScheduleRun | undefined,
  now: number,
): ScheduleView {
  const next = schedule.spec && !schedule.paused ? nextRuns(schedule.spec, now, NEXT_RUNS) : [];
  return { ...schedule, nextRuns: next, lastRun: lastRun ?? null };
}

/** Parses a definition with the config schema; 400 naming each problem. */
export function parseSchedule(input: unknown): ScheduleSpec {
  const parsed = scheduleSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) =>
    `${issue.path.map(String).join(".") || "schedule"}: ${issue.message}`
  );
  throw new ValidationError(`invalid schedule: ${problems.join("; ")}`, { problems });
}

/** Stores a new API schedule; 409 when the id is taken (by the config file or the store). */
export async function addSchedule(
  store: ScheduleStore,
  config: readonly ScheduleSpec[],
  spec: ScheduleSpec,
  now: number,
): Promise<StoredSchedule> {
  if (config.some((s) => s.id === spec.id)) {
    throw new ConflictError(`schedule ${spec.id} exists (in the config file)`, { id: spec.id });
  }
  const schedule: StoredSchedule = {
    id: spec.id,
    origin: "api",
    paused: false,
    spec,
    createdAt: now,
    updatedAt: now,
  };
  const existing = await store.putScheduleIfAbsent(schedule);
  if (existing) throw new ConflictError(`schedule ${spec.id} exists`, { id: spec.id });
  return schedule;
}

/** Refuses a change to a config-file schedule's definition. */
function mustBeApi(
  schedule: ActiveSchedule,
  what: string,
): StoredSchedule & { spec: ScheduleSpec } {
  if (schedule.origin === "config") {
    throw new ConflictError(
      `schedule ${schedule.id} comes from the config file: it cannot be ${what} (only paused or resumed)`,
      { id: schedule.id, origin: "config" },
    );
  }
  return { ...schedule, spec: schedule.spec ?? ({} as ScheduleSpec) };
}

/**
 * Changes an API schedule's fields (`null` resets one to its default); `id`
 * cannot change. Resolves with the schedule before and after.
 */
export async function updateSchedule(
  store: ScheduleStore,
  config: readonly ScheduleSpec[],
  id: string,
  patch: Record<string, unknown>,
  now: number,
): Promise<{ previous: StoredSchedule; current: StoredSchedule }> {
  const previous = mustBeApi(await mustGetSchedule(store, config, id), "changed");
  if ("id" in patch && patch.id !== id) throw new ValidationError("id: cannot change");
  const merged: Record<string, unknown> = { ...previous.spec };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  // Switching between cron and every: the other key goes.
  if ("cron" in patch && patch.cron !== null) delete merged.every;
  if ("every" in patch && patch.every !== null) delete merged.cron;
  const { error: _unparsed, ...base } = previous;
  const current: StoredSchedule = { ...base, spec: parseSchedule(merged), updatedAt: now };
  await store.putSchedule(current);
  return { previous, current };
}

/** Pauses or resumes a schedule (a config-file one too); `changed` false when it already was so. */
export async function setSchedulePaused(
  store: ScheduleStore,
  config: readonly ScheduleSpec[],
  id: string,
  paused: boolean,
  now: number,
): Promise<{ schedule: ActiveSchedule; changed: boolean }> {
  const schedule = await mustGetSchedule(store, config, id);
  if (schedule.paused === paused) return { schedule, changed: false };
  const next: ActiveSchedule = {
    ...schedule,
    paused,
    createdAt: schedule.createdAt || now,
    updatedAt: now,
  };
  // A config schedule's record holds only its switch: the definition stays the config file's.
  await store.putSchedule(next.origin === "config" ? { ...next, spec: null } : next);
  return { schedule: next, changed: true };
}

/** Removes an API schedule; 409 for a config-file one. */
export async function removeSchedule(
  store: ScheduleStore,
  config: readonly ScheduleSpec[],
  id: string,
): Promise<StoredSchedule> {
  const schedule = mustBeApi(await mustGetSchedule(store, config, id), "deleted");
  await store.deleteSchedule(id);
  return schedule;
}

/** The `schedule.<change>` event of a change made through the API. */
export function scheduleEvent(
  change: ScheduleChange,
  schedule: StoredSchedule,
  extra: Record<string, Json> = {},
): CloudEvent {
  return createEvent({
    type: `schedule.${change}`,
    source: SCHEDULE_EVENT_SOURCE,
    subject: schedule.id,
    data: {
      id: schedule.id,
      origin: schedule.origin,
      paused: schedule.paused,
      spec: schedule.spec as unknown as Json,
      ...extra,
    },
  });
}
