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
import { DatabaseSync } from "node:sqlite";
import { copyKeyedTable, copyRowidTable, type TableRecovery } from "./recover-tables.ts";
import { QUEUE_STATE_TABLE } from "./queues.ts";
import { HOOKS_TABLE } from "./hooks.ts";
import { SCHEDULE_TABLES } from "./schedules.ts";
import { applySchema } from "./schema.ts";

export type { TableRecovery } from "./recover-tables.ts";

/**
 * The outcome of {@link recoverStoreFile}.
 */
export interface RecoveryReport {
  file: string;
  damagedFile: string;
  tables: TableRecovery[];
}

/** Tables with rowid, copied rowid and all, in this order (tasks first: the rest is about them). */
const ROWID_TABLES = [
  "tasks",
  "events",
  "sources",
  "type_stats",
  "type_model",
  "leases",
  "processes",
  "hooks",
  "schedules",
  "schedule_runs",
  "batches",
];
/** Tables without rowid and their keys, copied in key order. */
const KEYED_TABLES: Record<string, string[]> = {
  source_state: ["source_id", "key"],
  source_files: ["source_id", "path"],
  ticks: ["name", "tick"],
  queue_state: ["queue"],
};

/**
 * Moves `file` (and its WAL) aside as `<file>.damaged-<time>`, copies what is
 * readable into a fresh store at `file`, and reports per table. The caller
 * holds the store lock. The fresh store is built under another name and
 * renamed into place at the end, so `file` is never a half-copied store.
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
    target.exec(QUEUE_STATE_TABLE);
    target.exec(HOOKS_TABLE);
    target.exec(SCHEDULE_TABLES);
    target.exec("PRAGMA synchronous = OFF"); // the file is renamed into place only when complete
    // A store older than a table has nothing of it to copy.
    const has = (table: string) =>
      source.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !==
        undefined;
    for (const table of ROWID_TABLES.filter(has)) {
      tables.push(inTransaction(target, () => copyRowidTable(source, target, table)));
    }
    for (const [table, key] of Object.entries(KEYED_TABLES).filter(([table]) => has(table))) {
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
