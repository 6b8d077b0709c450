/**
 * The schedule side of the store: schedules added at run time (`origin:
 * "api"`), the pause switch of config-file schedules (`origin: "config"`,
 * whose definition stays the config file's), and each schedule's last run.
 * Definitions are parsed with the config schema when read, as sources are;
 * one that no longer parses is listed with the reason and never fired.
 */

import { scheduleSchema, type ScheduleSpec } from "../config/schema.ts";

/** A schedule as persisted. */
export interface StoredSchedule {
  id: string;
  /** `config` = un.config.json's (only `paused` is stored); `api` = added at run time. */
  origin: "config" | "api";
  paused: boolean;
  /** The definition, valid by the config schema; null when it no longer parses (see `error`). */
  spec: ScheduleSpec | null;
  /** Why the stored definition does not parse; absent when it does. */
  error?: string;
  createdAt: number;
  updatedAt: number;
}

/** The last time a schedule fired, and the task it made. */
export interface ScheduleRun {
  /** The occurrence (epoch ms); for a manual trigger, when it was asked for. */
  tick: number;
  /** When it fired. */
  at: number;
  /** The task's id; null until the task is created (or when creating it failed). */
  taskId: string | null;
  /** `schedule` = an occurrence; `trigger` = `POST /un/schedules/:id/trigger`. */
  by: "schedule" | "trigger";
}

/** Schedule definitions, pause switches and last runs. */
export interface ScheduleStore {
  /** Every stored schedule, oldest first (createdAt, then id). */
  listSchedules(): Promise<StoredSchedule[]>;
  getSchedule(id: string): Promise<StoredSchedule | null>;
  /** Creates or replaces a schedule by id. */
  putSchedule(schedule: StoredSchedule): Promise<void>;
  /** Stores it unless the id is taken, in one atomic step: null when stored, the stored one otherwise. */
  putScheduleIfAbsent(schedule: StoredSchedule): Promise<StoredSchedule | null>;
  /** Removes a schedule and its last run; true when it existed. */
  deleteSchedule(id: string): Promise<boolean>;
  /** Records a run unless one of a later tick is recorded already (two processes, one late). */
  recordScheduleRun(id: string, run: ScheduleRun): Promise<void>;
  /** Every schedule's last run, by schedule id. */
  scheduleRuns(): Promise<Record<string, ScheduleRun>>;
}

/**
 * Parses a stored schedule's definition with the config schema (the store
 * boundary both implementations read through).
 */
export function readStoredSchedule(
  raw: Omit<StoredSchedule, "spec"> & { spec: unknown },
): StoredSchedule {
  const { spec, error: _error, ...base } = raw;
  if (spec === null || spec === undefined) return { ...base, spec: null };
  const parsed = parseCached(spec);
  if (typeof parsed !== "string") return { ...base, spec: parsed };
  return { ...base, spec: null, error: parsed };
}

/**
 * Parses already seen (the scheduler reads every schedule at each tick, and
 * the schema builds a Cron to check an expression): definition JSON → the
 * parsed spec, or why it does not parse. Parsed specs are shared, so never
 * changed in place.
 */
const parsedSpecs = new Map<string, ScheduleSpec | string>();
const MAX_PARSED = 1_000;

function parseCached(spec: unknown): ScheduleSpec | string {
  const key = JSON.stringify(spec);
  const known = parsedSpecs.get(key);
  if (known !== undefined) return known;
  const parsed = scheduleSchema.safeParse(spec);
  const result = parsed.success
    ? parsed.data
    : `stored definition no longer valid: ${
      parsed.error.issues.map((issue) =>
        `${issue.path.map(String).join(".") || "spec"}: ${issue.message}`
      ).join("; ")
    }`;
  if (parsedSpecs.size >= MAX_PARSED) parsedSpecs.clear();
  parsedSpecs.set(key, result);
  return result;
}

/** Keeps the later of two runs (by tick, then by having a task id). */
export function laterRun(stored: ScheduleRun | undefined, run: ScheduleRun): ScheduleRun {
  if (!stored || run.tick > stored.tick) return run;
  if (run.tick === stored.tick && run.taskId !== null) return run;
  return stored;
}
