/**
 * Copying one table of a damaged store file into a fresh one, row by row
 * around the damage (see `recover.ts` for the method).
 */

import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { sqliteFaultKind } from "./faults.ts";

/**
 * What recovery got back from one table.
 */
export interface TableRecovery {
  table: string;
  recovered: number;
  /** Rows known to exist but not kept: unreadable, or values that do not parse. */
  lost: number;
  damagedRanges: number;
  /**
   * False when rows may be missing that are not counted in `lost`: reading a
   * table without rowid stopped at a damaged page, or a damaged range was too
   * wide to try rowid by rowid.
   */
  complete: boolean;
}

/** Columns holding JSON text: a row whose JSON does not parse is damaged, not kept. */
const JSON_COLUMNS: Record<string, string[]> = {
  tasks: ["payload", "explanation", "result", "error", "depends_on", "resources"],
  events: ["body"],
  sources: ["spec"],
  source_state: ["value"],
  processes: ["record"],
  hooks: ["hook"],
  schedules: ["spec"],
  schedule_runs: ["run"],
};
const BATCH = 1_000;
/** Rowids tried one by one inside a damaged range at most (beyond that the range is skipped). */
const SALVAGE_MAX = 100_000;

type Row = Record<string, unknown>;

/** Column names of `table` in the fresh schema. */
function columnsOf(db: DatabaseSync, table: string): string[] {
  return db.prepare(`PRAGMA table_info(${table})`).all().map((row) => String(row.name));
}

/** True for an SQLite error (the file is damaged: any read may fail); anything else is thrown on. */
function damaged(error: unknown): boolean {
  if (sqliteFaultKind(error) !== null) return true;
  if (error instanceof Error && (error as { code?: string }).code === "ERR_SQLITE_ERROR") {
    return true;
  }
  throw error;
}

/** Reads up to `limit` rows after `last` (from the start when null), in order. */
type PageQuery = (last: Row | null, limit: number) => Row[];

/**
 * One page of rows after `last`: all at once, or, when that fails, one by
 * one up to the unreadable row (`hitDamage`).
 */
function readPage(query: PageQuery, last: Row | null): { rows: Row[]; hitDamage: boolean } {
  try {
    return { rows: query(last, BATCH), hitDamage: false };
  } catch (error) {
    damaged(error);
  }
  const rows: Row[] = [];
  for (let at = last; rows.length < BATCH;) {
    let row: Row | undefined;
    try {
      row = query(at, 1)[0];
    } catch (error) {
      damaged(error);
      return { rows, hitDamage: true };
    }
    if (row === undefined) break;
    rows.push(row);
    at = row;
  }
  return { rows, hitDamage: false };
}

/** Copies the rows that parse into the fresh store; returns how many it kept. */
function keep(table: string, insert: StatementSync, columns: string[], rows: Row[]): number {
  let kept = 0;
  for (const row of rows) {
    if (!parses(table, row)) continue;
    try {
      const values = columns.map((column) => row[column] as SQLInputValue);
      if (Number(insert.run(...values).changes) > 0) kept++;
    } catch {
      // a value that breaks a constraint came from a damaged page
    }
  }
  return kept;
}

function parses(table: string, row: Row): boolean {
  for (const column of JSON_COLUMNS[table] ?? []) {
    const value = row[column];
    if (value === null || value === undefined) continue;
    try {
      JSON.parse(String(value));
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Copies a table with rowid, in rowid order, skipping damaged ranges.
 */
export function copyRowidTable(
  source: DatabaseSync,
  target: DatabaseSync,
  table: string,
): TableRecovery {
  const report: TableRecovery = { table, recovered: 0, lost: 0, damagedRanges: 0, complete: true };
  const columns = ["rowid", ...columnsOf(target, table)];
  const list = columns.join(", ");
  const insert = target.prepare(
    `INSERT OR IGNORE INTO ${table} (${list}) VALUES (${columns.map(() => "?").join(", ")})`,
  );
  const after = source.prepare(
    `SELECT ${list} FROM ${table} WHERE rowid > ? ORDER BY rowid LIMIT ?`,
  );
  const query: PageQuery = (last, limit) =>
    after.all(last === null ? 0 : Number(last.rowid), limit);
  const at = source.prepare(`SELECT ${list} FROM ${table} WHERE rowid = ?`);
  /** Reading from `rowid > x` works (at least its first row). */
  const readable = (x: number): boolean => {
    try {
      after.all(x, 1);
      return true;
    } catch (error) {
      return !damaged(error);
    }
  };
  let cursor = 0; // un never sets a rowid: SQLite numbers rows from 1
  for (;;) {
    const { rows, hitDamage } = readPage(query, cursor === 0 ? null : { rowid: cursor });
    const seen = rows.length;
    const kept = keep(table, insert, columns, rows);
    report.recovered += kept;
    report.lost += seen - kept;
    if (seen > 0) cursor = Number(rows[seen - 1].rowid);
    if (!hitDamage) {
      if (seen < BATCH) return report;
      continue;
    }
    // Rows after `cursor` cannot be read: find where reading works again.
    report.damagedRanges++;
    let low = cursor, step = 1, high = cursor + step;
    while (!readable(high)) {
      low = high;
      step *= 2;
      if (cursor + step > Number.MAX_SAFE_INTEGER) return { ...report, complete: false };
      high = cursor + step;
    }
    // Bisect (low fails, high reads) down to the first rowid that reads.
    while (high - low > 1) {
      const middle = low + Math.floor((high - low) / 2);
      if (readable(middle)) high = middle;
      else low = middle;
    }
    // Rowids in (cursor, high]: the damaged range; try each one alone.
    const span = high - cursor;
    if (span <= SALVAGE_MAX) {
      for (let rowid = cursor + 1; rowid <= high; rowid++) {
        let row: Row | undefined;
        try {
          row = at.get(rowid);
        } catch (error) {
          damaged(error);
          report.lost++;
          continue;
        }
        if (row === undefined) continue;
        const kept = keep(table, insert, columns, [row]);
        report.recovered += kept;
        report.lost += 1 - kept;
      }
    } else {
      report.complete = false; // too wide to try rowid by rowid: its rows are not counted
    }
    cursor = high;
  }
}

/**
 * Copies a table without rowid in key order, up to the first damaged page.
 */
export function copyKeyedTable(
  source: DatabaseSync,
  target: DatabaseSync,
  table: string,
  key: string[],
): TableRecovery {
  const report: TableRecovery = { table, recovered: 0, lost: 0, damagedRanges: 0, complete: true };
  const columns = columnsOf(target, table);
  const list = columns.join(", ");
  const insert = target.prepare(
    `INSERT OR IGNORE INTO ${table} (${list}) VALUES (${columns.map(() => "?").join(", ")})`,
  );
  const order = key.join(", ");
  const first = source.prepare(`SELECT ${list} FROM ${table} ORDER BY ${order} LIMIT ?`);
  const next = source.prepare(
    `SELECT ${list} FROM ${table} WHERE (${order}) > (${key.map(() => "?").join(", ")})
     ORDER BY ${order} LIMIT ?`,
  );
  const query: PageQuery = (last, limit) =>
    last === null
      ? first.all(limit)
      : next.all(...key.map((column) => last[column] as SQLInputValue), limit);
  let last: Row | null = null;
  for (;;) {
    const { rows, hitDamage } = readPage(query, last);
    const kept = keep(table, insert, columns, rows);
    report.recovered += kept;
    report.lost += rows.length - kept;
    if (rows.length > 0) last = rows[rows.length - 1];
    if (hitDamage) {
      report.damagedRanges++;
      report.complete = false;
      return report;
    }
    if (rows.length < BATCH) return report;
  }
}
