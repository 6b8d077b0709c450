/**
 * Recovery of a damaged store file: what is readable is copied, table by
 * table and row by row, into a fresh store; the damaged file is kept, renamed,
 * next to it.
 *
 * The sqlite3 shell's `.recover` (which reads pages directly) is not
 * reachable from `node:sqlite`, so this works through SQL: rows are read in
 * rowid order, in pages; when a read hits a damaged page, the first readable
 * rowid after it is found by doubling steps then bisection (a seek past a
 * damaged leaf lands in the next sound one), and the rowids in between are
 * tried one by one, so a damaged page costs only the rows SQLite cannot read.
 * Tables without rowid (small, derived state) are read in key order up to the
 * first damaged page. `task_deps` is rebuilt from the tasks' `depends_on`.
 *
 * Reads use `all()`/`get()`, never `iterate()`: Deno's `StatementSync.iterate`
 * ends quietly at a damaged page (measured: 1 to 1 100 of 2 000 rows, no
 * error), and any SQLite error while reading the damaged file counts as an
 * unreadable row (a damaged record also shows as "string or blob too big").
 */

import { existsSync, renameSync, rmSync } from "node:fs";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { sqliteFaultKind } from "./faults.ts";
import { applySchema } from "./schema.ts";

/**
 * What recovery got back from one table.
 *
 * @example
 * ```ts
 * const t: TableRecovery = { table: "tasks", recovered: 1987, lost: 13, damagedRanges: 2, complete: true };
 * ```
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

/**
 * The outcome of {@link recoverStoreFile}.
 *
 * @example
 * ```ts
 * const report: RecoveryReport = recoverStoreFile(".un/un.db");
 * console.log(report.damagedFile);
 * ```
 */
export interface RecoveryReport {
  file: string;
  damagedFile: string;
  tables: TableRecovery[];
}

/** Tables with rowid, copied rowid and all, in this order (tasks first: the rest is about them). */
const ROWID_TABLES = ["tasks", "events", "sources", "type_stats", "leases", "processes"];
/** Tables without rowid and their keys, copied in key order. */
const KEYED_TABLES: Record<string, string[]> = {
  source_state: ["source_id", "key"],
  source_files: ["source_id", "path"],
  ticks: ["name", "tick"],
};
/** Columns holding JSON text: a row whose JSON does not parse is damaged, not kept. */
const JSON_COLUMNS: Record<string, string[]> = {
  tasks: ["payload", "explanation", "result", "error", "depends_on", "resources"],
  events: ["body"],
  sources: ["spec"],
  source_state: ["value"],
  processes: ["record"],
};
const BATCH = 1_000;
/** Rowids tried one by one inside a damaged range at most (beyond that the range is skipped). */
const SALVAGE_MAX = 100_000;

type Row = Record<string, unknown>;

/**
 * Moves `file` (and its WAL) aside as `<file>.damaged-<time>`, copies what is
 * readable into a fresh store at `file`, and reports per table. The caller
 * holds the store lock. The fresh store is built under another name and
 * renamed into place at the end, so `file` is never a half-copied store.
 *
 * @example
 * ```ts
 * const { damagedFile, tables } = recoverStoreFile("/srv/.un/un.db");
 * ```
 */
export function recoverStoreFile(file: string, now = Date.now()): RecoveryReport {
  const damagedFile = `${file}.damaged-${new Date(now).toISOString().replace(/[:.]/g, "-")}`;
  // SQLite finds a WAL by name (<db>-wal), so the WAL and its index move too.
  for (const suffix of ["", "-wal", "-shm"]) {
    if (existsSync(file + suffix)) renameSync(file + suffix, damagedFile + suffix);
  }
  const building = `${file}.recovering`;
  for (const suffix of ["", "-wal", "-shm"]) rmSync(building + suffix, { force: true });
  let tables: TableRecovery[];
  try {
    tables = copyAll(damagedFile, building);
  } catch (error) {
    // Nothing usable came out: put the damaged file back as it was, so the
    // store stays as the operator found it (and un still refuses it).
    for (const suffix of ["", "-wal", "-shm"]) {
      rmSync(building + suffix, { force: true });
      if (existsSync(damagedFile + suffix)) renameSync(damagedFile + suffix, file + suffix);
    }
    throw error;
  }
  renameSync(building, file);
  for (const suffix of ["-wal", "-shm"]) rmSync(building + suffix, { force: true });
  return { file, damagedFile, tables };
}

/** Copies every table of `from` that can be read into a fresh store at `to`. */
function copyAll(from: string, to: string): TableRecovery[] {
  const source = new DatabaseSync(from);
  const target = new DatabaseSync(to);
  const tables: TableRecovery[] = [];
  try {
    applySchema(target);
    target.exec("PRAGMA synchronous = OFF"); // the file is renamed into place only when complete
    for (const table of ROWID_TABLES) {
      tables.push(inTransaction(target, () => copyRowidTable(source, target, table)));
    }
    for (const [table, key] of Object.entries(KEYED_TABLES)) {
      tables.push(inTransaction(target, () => copyKeyedTable(source, target, table, key)));
    }
    target.exec(`INSERT OR IGNORE INTO task_deps (task_id, depends_on)
      SELECT t.id, d.value FROM tasks t, json_each(t.depends_on) d`);
    target.exec("PRAGMA synchronous = FULL");
    target.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    target.close();
    try {
      source.close();
    } catch {
      // closing checkpoints the damaged file's WAL, which may fail on damage
    }
  }
  return tables;
}

function inTransaction<T>(db: DatabaseSync, body: () => T): T {
  db.exec("BEGIN");
  try {
    const value = body();
    db.exec("COMMIT");
    return value;
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

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

function copyRowidTable(source: DatabaseSync, target: DatabaseSync, table: string): TableRecovery {
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

function copyKeyedTable(
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
