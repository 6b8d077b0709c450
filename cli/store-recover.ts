/**
 * `un store recover`: copies what is readable of a damaged embedded store
 * into a fresh one, keeps the damaged file next to it
 * (`un.db.damaged-<time>`), and prints how many rows of each table came back.
 * It takes the store lock for the whole run, so it refuses while un runs on
 * the store, and un cannot start on it meanwhile.
 *
 * Exit 0 when the fresh store is in place, 1 when nothing could be read (the
 * damaged file is then left where it was), 2 bad usage, no store, or the
 * store is in use.
 */

import { existsSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { errorText, UnError } from "../lib/errors.ts";
import { acquireStoreLock } from "../lib/store/lock.ts";
import { integrityProblems } from "../lib/store/sqlite/integrity.ts";
import { recoverStoreFile, type TableRecovery } from "../lib/store/sqlite/recover.ts";
import { storeArgs, storeFromConfig } from "./store-check.ts";

const USAGE = "usage: un store recover [--config FILE] [--json]";

/**
 * Runs `un store recover`.
 */
export async function storeRecoverCommand(args: string[]): Promise<number> {
  const values = storeArgs(args, {}, USAGE);
  const { dir, file } = await storeFromConfig(values.config as string | undefined);
  if (!existsSync(file)) {
    console.error(`un: no store at ${file} (nothing to recover)`);
    return 2;
  }
  let release: () => void;
  try {
    release = await acquireStoreLock(dir);
  } catch (err) {
    if (!(err instanceof UnError)) throw err;
    console.error(`un: ${err.message}; stop it before recovering`);
    return 2;
  }
  try {
    const before = quickCheck(file);
    if (!values.json) {
      console.log(
        before.length === 0
          ? `${file}: quick_check finds no damage; rebuilding it anyway`
          : `${file}: damaged (${before[0]}${
            before.length > 1 ? ` and ${before.length - 1} more` : ""
          }); recovering`,
      );
    }
    let report;
    try {
      report = recoverStoreFile(file);
    } catch (err) {
      console.error(
        `un: nothing could be read from ${file} (${
          errorText(err)
        }); it is left as it was. Restore the store directory from a backup, or move it ` +
          "away to start with an empty store",
      );
      return 1;
    }
    if (values.json) {
      console.log(JSON.stringify(report));
      return 0;
    }
    console.log(`the damaged file is kept as ${report.damagedFile}`);
    for (const table of report.tables) console.log(`  ${describe(table)}`);
    console.log(`recovered store written to ${report.file}; start un as usual`);
    return 0;
  } finally {
    release();
  }
}

function quickCheck(file: string): string[] {
  let db: DatabaseSync | null = null;
  try {
    db = new DatabaseSync(file, { readOnly: true });
    return integrityProblems(db, "quick", 20);
  } catch (err) {
    return [errorText(err)];
  } finally {
    db?.close();
  }
}

function describe(table: TableRecovery): string {
  const parts = [`${table.table.padEnd(13)} ${String(table.recovered).padStart(8)} rows recovered`];
  if (table.lost > 0) parts.push(`${table.lost} unreadable`);
  if (table.damagedRanges > 0) parts.push(`${table.damagedRanges} damaged ranges skipped`);
  if (!table.complete) parts.push("more may be lost (reading stopped at a damaged page)");
  return parts.join(", ");
}
