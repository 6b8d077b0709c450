/**
 * Schedules and their last runs on the embedded store ({@link SqliteSchedules}).
 * Its tables are created here when the store opens, so older files gain them.
 */

import {
  laterRun,
  readStoredSchedule,
  type ScheduleRun,
  type ScheduleStore,
  type StoredSchedule,
} from "../schedule-store.ts";
import type { SqliteAccess } from "./access.ts";
import { json, num, type Row, type Sql, text } from "./statements.ts";

/** The schedule tables (created on open, and in a store `un store recover` builds). */
export const SCHEDULE_TABLES = `
CREATE TABLE IF NOT EXISTS schedules (
  id TEXT PRIMARY KEY,
  origin TEXT NOT NULL,
  paused INTEGER NOT NULL,
  spec TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS schedule_runs (
  id TEXT PRIMARY KEY,
  run TEXT NOT NULL
);`;

function fromRow(row: Row): StoredSchedule {
  let spec: unknown;
  try {
    spec = json<unknown>(row, "spec");
  } catch (error) {
    spec = String(error);
  }
  return readStoredSchedule({
    id: text(row, "id"),
    origin: text(row, "origin") as StoredSchedule["origin"],
    paused: num(row, "paused") !== 0,
    spec,
    createdAt: num(row, "created_at"),
    updatedAt: num(row, "updated_at"),
  });
}

function params(s: StoredSchedule) {
  return {
    id: s.id,
    origin: s.origin,
    paused: s.paused ? 1 : 0,
    spec: s.spec === null ? null : JSON.stringify(s.spec),
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

const INSERT = `INSERT INTO schedules (id, origin, paused, spec, created_at, updated_at)
  VALUES (:id, :origin, :paused, :spec, :createdAt, :updatedAt)`;

function readOne(sql: Sql, id: string): StoredSchedule | null {
  const row = sql.get("SELECT * FROM schedules WHERE id = :id", { id });
  return row === undefined ? null : fromRow(row);
}

/** The embedded {@link ScheduleStore}: each call one read or one group-committed write. */
export class SqliteSchedules implements ScheduleStore {
  constructor(private readonly db: SqliteAccess) {
    db.sql.exec(SCHEDULE_TABLES);
  }

  listSchedules(): Promise<StoredSchedule[]> {
    return this.db.read((sql) =>
      sql.all("SELECT * FROM schedules ORDER BY created_at, id").map(fromRow)
    );
  }
  getSchedule(id: string): Promise<StoredSchedule | null> {
    return this.db.read((sql) => readOne(sql, id));
  }
  putSchedule(schedule: StoredSchedule): Promise<void> {
    return this.db.write((sql) =>
      void sql.run(
        `${INSERT} ON CONFLICT (id) DO UPDATE SET origin = excluded.origin,
           paused = excluded.paused, spec = excluded.spec, created_at = excluded.created_at,
           updated_at = excluded.updated_at`,
        params(schedule),
      ), true);
  }
  putScheduleIfAbsent(schedule: StoredSchedule): Promise<StoredSchedule | null> {
    return this.db.write((sql) =>
      sql.run(`${INSERT} ON CONFLICT (id) DO NOTHING`, params(schedule)) > 0
        ? null
        : readOne(sql, schedule.id)
    );
  }
  deleteSchedule(id: string): Promise<boolean> {
    return this.db.write((sql) => {
      sql.run("DELETE FROM schedule_runs WHERE id = :id", { id });
      return sql.run("DELETE FROM schedules WHERE id = :id", { id }) > 0;
    });
  }
  recordScheduleRun(id: string, run: ScheduleRun): Promise<void> {
    return this.db.write((sql) => {
      const row = sql.get("SELECT run FROM schedule_runs WHERE id = :id", { id });
      const stored = row === undefined ? undefined : json<ScheduleRun>(row, "run") ?? undefined;
      const next = laterRun(stored, run);
      if (next === stored) return;
      sql.run(
        `INSERT INTO schedule_runs (id, run) VALUES (:id, :run)
         ON CONFLICT (id) DO UPDATE SET run = excluded.run`,
        { id, run: JSON.stringify(next) },
      );
    });
  }
  scheduleRuns(): Promise<Record<string, ScheduleRun>> {
    return this.db.read((sql) =>
      Object.fromEntries(
        sql.all("SELECT id, run FROM schedule_runs").map((row) => [
          text(row, "id"),
          json<ScheduleRun>(row, "run")!,
        ]),
      )
    );
  }
}
