/**
 * The embedded store's connection and its discipline, WAL mode,
 * `synchronous=NORMAL`. Writes go through group commit
 * (`sqlite/group-commit.ts`): they run at once inside a shared transaction
 * that commits on the next macrotask, and a write's promise resolves only
 * after that COMMIT, so an acknowledged write survives `kill -9`. Reads run
 * directly on the same connection and see writes of the open transaction.
 * Nothing runs once closed, no write while the file is at fault; and what
 * `ping()` and `close()` do. The per-concern parts (tasks, sources,
 * coordination, events) all go through one {@link SqliteAccess}.
 */

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { StoreDiskError, StoreFaultError, UnavailableError } from "../../errors.ts";
import { type StoreFaultOptions, StoreFaults } from "./faults.ts";
import { GroupCommit } from "./group-commit.ts";
import { openChecked } from "./integrity.ts";
import { applySchema } from "./schema.ts";
import { Sql } from "./statements.ts";

/**
 * File name of the database inside the store directory.
 */
export const SQLITE_FILE = "un.db";

/**
 * Options of opening the embedded store: `watchMs`, how often to look whether the
 * store directory or file was deleted or replaced (default: only on `ping()`),
 * and `onFault`, told once when a fault begins and when a disk fault ends.
 */
export type SqliteOpenOptions = Omit<StoreFaultOptions, "totalChanges">;

/**
 * How the parts of the embedded store read and write.
 */
export interface SqliteRw {
  /** Runs a read now (it sees uncommitted writes of this process). */
  read<T>(query: (sql: Sql) => T): Promise<T>;
  /**
   * Runs a change under group commit; resolves after its COMMIT. `oneChange`:
   * it changes the database with one statement at most (no savepoint needed).
   */
  write<T>(operation: (sql: Sql) => T, oneChange?: boolean): Promise<T>;
}

/**
 * The open database with its group commit and fault watch.
 */
export class SqliteAccess implements SqliteRw {
  readonly sql: Sql;
  readonly commits: GroupCommit;
  readonly faults: StoreFaults;
  readonly #db: DatabaseSync;
  #closed = false;

  /**
   * Opens (creating when needed) `<dir>/un.db`, checked (`PRAGMA quick_check`),
   * with its tables; a damaged file throws StoreDamagedError naming it and the
   * way out. `lost`: a commit failed, so what was remembered of its writes
   * must be forgotten.
   */
  static open(dir: string, options: SqliteOpenOptions, lost: () => void): SqliteAccess {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, SQLITE_FILE);
    return new SqliteAccess(openChecked(file, applySchema), dir, file, options, lost);
  }

  private constructor(
    db: DatabaseSync,
    dir: string,
    file: string,
    options: SqliteOpenOptions,
    lost: () => void,
  ) {
    this.#db = db;
    this.sql = new Sql(db);
    this.faults = new StoreFaults(dir, file, {
      ...options,
      totalChanges: () => Number(this.sql.get("SELECT total_changes() AS n")?.n ?? 0),
    });
    this.commits = new GroupCommit(this.sql, {
      mapError: (error) => this.faults.map(error),
      committed: () => this.faults.committed(),
      lost,
    });
  }

  write<T>(operation: (sql: Sql) => T, oneChange = false): Promise<T> {
    return this.writing(() => this.commits.write(() => operation(this.sql), oneChange));
  }

  /** Starts a write (now, or at the commit) unless the store is closed or refuses writes. */
  writing<T>(start: () => Promise<T>): Promise<T> {
    try {
      this.mayWrite();
      return start();
    } catch (error) {
      return Promise.reject(this.faults.map(error));
    }
  }

  /** Throws when a write would be refused now (closed store, fault). */
  mayWrite(): void {
    this.#assertOpen();
    this.faults.refuseWrite();
  }

  read<T>(query: (sql: Sql) => T): Promise<T> {
    try {
      this.#assertOpen();
      return Promise.resolve(query(this.sql));
    } catch (error) {
      return Promise.reject(this.faults.map(error));
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new UnavailableError("the SQLite store is closed");
  }

  /**
   * Resolves when the store can serve; otherwise rejects with a
   * StoreFaultError whose reason `/health` lists (deleted, replaced or
   * damaged store; full disk). While the disk is full it tries one small
   * write, so the fault ends as soon as space is back, writes or not.
   */
  async ping(): Promise<void> {
    this.#assertOpen();
    this.faults.check();
    try {
      const fault = this.faults.current;
      if (fault instanceof StoreDiskError) {
        await this.write((sql) =>
          sql.run(
            "INSERT INTO store_probe (id, at) VALUES (1, :now) ON CONFLICT (id) DO UPDATE SET at = :now",
            { now: Date.now() },
          )
        );
      } else if (fault !== null) {
        throw fault;
      } else {
        await this.read((sql) => sql.get("SELECT 1"));
      }
    } catch (error) {
      const fault = this.faults.current;
      throw fault !== null && error === fault ? new StoreFaultError([fault.message]) : error;
    }
  }

  /** Commits pending writes and closes the file; later calls reject with UnavailableError. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.faults.stop();
    try {
      this.commits.flush();
      this.#db.close();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
