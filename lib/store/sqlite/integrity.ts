/**
 * SQLite's own consistency checks, as lists of problems.
 *
 * `quick_check` walks every page of every b-tree (it skips only matching
 * index entries to table rows): measured ~100 ms on a store of 100 000 tasks
 * (66 MB, warm page cache), so it runs at every start. `integrity_check` adds
 * the index-to-table comparison (~700 ms for the same store) and is what
 * `un store check` runs.
 */

import { DatabaseSync } from "node:sqlite";
import { StoreDamagedError } from "../../errors.ts";
import { sqliteFaultKind } from "./faults.ts";

/**
 * Runs `PRAGMA quick_check` (or `integrity_check`) and returns the problems
 * found, empty when the file is sound. A file SQLite cannot read at all
 * (damaged header) gives one problem: SQLite's error.
 */
export function integrityProblems(
  db: DatabaseSync,
  mode: "quick" | "full",
  max = 100,
): string[] {
  const pragma = mode === "quick" ? "quick_check" : "integrity_check";
  let rows: Record<string, unknown>[];
  try {
    rows = db.prepare(`PRAGMA ${pragma}(${Math.max(1, Math.floor(max))})`).all();
  } catch (error) {
    if (sqliteFaultKind(error) !== "damaged") throw error;
    // integrity_check can stop at damage that quick_check walks around and
    // describes: give both.
    const detail = mode === "full" ? integrityProblems(db, "quick", max) : [];
    return [
      (error as Error).message,
      ...detail.filter((line) => line !== (error as Error).message),
    ];
  }
  // One row per problem, though a row may also carry several lines.
  const lines = rows.flatMap((row) => String(Object.values(row)[0] ?? "").split("\n"))
    .map((line) => line.trim()).filter((line) => line !== "");
  if (lines.length === 1 && lines[0] === "ok") return [];
  return lines.filter((line) => !/^\*\*\* in database main \*\*\*$/.test(line));
}

/**
 * Refuses a damaged store file at open: throws {@link StoreDamagedError}
 * naming the file and the way out.
 */
export function assertIntact(db: DatabaseSync, file: string): void {
  const problems = integrityProblems(db, "quick", 20);
  if (problems.length === 0) return;
  throw damagedAtStart(file, problems);
}

/**
 * The start-up error for a damaged store file.
 */
export function damagedAtStart(file: string, problems: string[]): StoreDamagedError {
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  return new StoreDamagedError(
    `store file ${file} is damaged: ${problems[0]}${more}. un does not start on a damaged ` +
      "store. Run `un store check` for the full report, then `un store recover` to copy what " +
      "is readable into a fresh store (the damaged file is kept next to it)",
    { file, problems },
  );
}

/**
 * Opens the store file, refuses it when damaged (`PRAGMA quick_check`, or an
 * error of SQLite's that says so), then runs `setup` (the schema). The
 * connection is closed again on any failure.
 */
export function openChecked(file: string, setup: (db: DatabaseSync) => void): DatabaseSync {
  const db = new DatabaseSync(file);
  try {
    assertIntact(db, file);
    setup(db);
    return db;
  } catch (error) {
    db.close();
    if (sqliteFaultKind(error) === "damaged") {
      throw damagedAtStart(file, [(error as Error).message]);
    }
    throw error;
  }
}
