/**
 * Process records on the embedded store: one row per process (only one
 * process uses the file, but the records behave as on the shared store).
 */

import type { ProcessRecord } from "../types.ts";
import { json, type Sql } from "./statements.ts";

/**
 * Records or refreshes a process until `now + ttlMs`.
 */
export function writeProcess(sql: Sql, record: ProcessRecord, ttlMs: number, now: number): void {
  sql.run(
    `INSERT INTO processes (id, record, until) VALUES (:id, :record, :until)
     ON CONFLICT (id) DO UPDATE SET record = excluded.record, until = excluded.until`,
    { id: record.id, record: JSON.stringify(record), until: now + ttlMs },
  );
}

/**
 * Removes run-out records and returns the others, by id.
 */
export function liveProcesses(sql: Sql, now: number): ProcessRecord[] {
  sql.run("DELETE FROM processes WHERE until <= :now", { now });
  return sql.all("SELECT record FROM processes ORDER BY id")
    .map((row) => json<ProcessRecord>(row, "record"))
    .filter((record): record is ProcessRecord => record !== null);
}

/**
 * Removes a process's record.
 */
export function removeProcess(sql: Sql, id: string): void {
  sql.run("DELETE FROM processes WHERE id = :id", { id });
}
