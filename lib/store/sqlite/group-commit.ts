/**
 * Group commit: many writes, one COMMIT.
 *
 * A transaction per write costs a WAL append and lock round trip each time
 * (~36 000 rows/s on our 2-core VM); the same rows batched commit at
 * ~140 000/s. So writes share one open transaction:
 *
 * - The first write after a commit opens it (`BEGIN IMMEDIATE`) and schedules
 *   the commit for the next macrotask.
 * - Each write runs at once, synchronously, inside its own `SAVEPOINT`: a write
 *   that throws rolls back only its own changes and rejects only its own promise.
 * - Every other write issued before that macrotask (other workers' completes,
 *   a burst of enqueues) joins the same transaction.
 * - The commit resolves every write it carried. A write's promise therefore
 *   settles only after its COMMIT: a caller that got an answer is durable
 *   against `kill -9` (WAL + `synchronous=NORMAL`).
 * - Reads run directly on the same connection, so they already see writes of
 *   the open transaction (read-your-writes inside the process).
 * - `flush()` (called by `close()`) commits what is pending at once, and
 *   stops the background checkpointer (`sqlite/checkpointer.ts`), so that the
 *   connection closing next is the last one on the file.
 * - Work registered with `beforeCommit` runs at the commit, before COMMIT:
 *   after every write issued before it, inside the same transaction. The
 *   store's claims wait for it, so the claims of one burst share their reads
 *   (see `sqlite/claim.ts`).
 *
 * The commit is scheduled with `setImmediate` rather than `setTimeout(0)`:
 * Deno clamps nested zero timers (measured ~2.2 ms per hop on our machines,
 * which would cap a sequential caller at ~450 writes/s); `setImmediate` runs
 * after the current macrotask and pending I/O callbacks in ~6 µs, which gives
 * the same batching without the floor.
 *
 * If COMMIT itself fails (disk full, I/O error), the whole transaction is rolled
 * back and every write it carried rejects with that error. So does a write
 * whose failure made SQLite roll the whole transaction back (it may, on
 * SQLITE_FULL or SQLITE_IOERR): the writes before it in the transaction are
 * gone too, and must not be acknowledged.
 */

import { clearImmediate, setImmediate } from "node:timers";
import { Checkpointer } from "./checkpointer.ts";
import type { Sql } from "./statements.ts";

interface PendingWrite {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Work that runs when the open transaction commits, before COMMIT (see
 * {@link GroupCommit.beforeCommit}).
 */
export interface CommitWork {
  /** Runs inside the transaction; its own writes join it. */
  run(): void;
  /** The transaction was lost before `run` (SQLite rolled it back): told the error instead. */
  fail(error: unknown): void;
}

/**
 * Hooks of a {@link GroupCommit}.
 */
export interface GroupCommitHooks {
  /** Turns the error a carried write rejects with into the one callers see. */
  mapError?(error: unknown): unknown;
  /** Called after each successful COMMIT. */
  committed?(): void;
  /** Called when a transaction is lost (its COMMIT failed, or SQLite rolled it back). */
  lost?(): void;
}

/**
 * Runs write operations in a shared transaction committed once per macrotask.
 *
 * @example
 * ```ts
 * const commits = new GroupCommit(sql);
 * const changed = await commits.write(() => sql.run("DELETE FROM ticks")); // durable now
 * ```
 */
export class GroupCommit {
  readonly #sql: Sql;
  readonly #hooks: GroupCommitHooks;
  readonly #checkpoints: Checkpointer;
  #pending: PendingWrite[] = [];
  #atCommit: CommitWork[] = [];
  #open = false;
  #timer: ReturnType<typeof setImmediate> | null = null;

  constructor(sql: Sql, hooks: GroupCommitHooks = {}) {
    this.#sql = sql;
    this.#hooks = hooks;
    this.#checkpoints = new Checkpointer(sql);
  }

  /** True while a transaction is open and not yet committed. */
  get pending(): boolean {
    return this.#open;
  }

  /**
   * Runs `operation` now inside the shared transaction; the promise settles
   * with its value after the transaction commits, or at once with its error.
   * `oneChange`: the operation changes the database with at most one
   * statement, which SQLite undoes by itself when it fails, so it needs no
   * savepoint of its own (two statements fewer per write).
   */
  write<T>(operation: () => T, oneChange = false): Promise<T> {
    this.#begin();
    if (!oneChange) this.#sql.exec("SAVEPOINT un_write");
    let value: T;
    try {
      value = operation();
    } catch (error) {
      if (!this.#sql.db.isTransaction) {
        this.#abandon(error);
      } else if (!oneChange) {
        this.#sql.exec("ROLLBACK TO un_write");
        this.#sql.exec("RELEASE un_write");
      }
      return Promise.reject(this.#hooks.mapError ? this.#hooks.mapError(error) : error);
    }
    if (!oneChange) this.#sql.exec("RELEASE un_write");
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ resolve: () => resolve(value), reject });
    });
  }

  /**
   * Opens the transaction (if none is open) and runs `work` when it commits,
   * before COMMIT, after every write issued before that.
   */
  beforeCommit(work: CommitWork): void {
    this.#begin();
    this.#atCommit.push(work);
  }

  /**
   * Commits the open transaction now (if any) and settles its writes; stops
   * the background checkpointer (a later commit may start it again).
   */
  flush(): void {
    this.#commit();
    this.#checkpoints.stop();
  }

  /** Commits the open transaction now (if any) and settles its writes. */
  #commit(): void {
    if (this.#timer !== null) {
      clearImmediate(this.#timer);
      this.#timer = null;
    }
    // Work at commit may write (joining this transaction) and register more.
    while (this.#open && this.#atCommit.length > 0) {
      const work = this.#atCommit;
      this.#atCommit = [];
      for (const item of work) {
        try {
          item.run();
        } catch (error) {
          item.fail(this.#hooks.mapError ? this.#hooks.mapError(error) : error);
        }
      }
    }
    if (this.#timer !== null) {
      // A write of that work found the transaction lost and opened another: it commits now.
      clearImmediate(this.#timer);
      this.#timer = null;
    }
    if (!this.#open) return;
    const carried = this.#pending;
    this.#pending = [];
    this.#open = false;
    try {
      this.#sql.exec("COMMIT");
    } catch (error) {
      try {
        this.#sql.exec("ROLLBACK");
      } catch {
        // COMMIT may already have rolled back; the error below is the one to report.
      }
      const mapped = this.#hooks.mapError ? this.#hooks.mapError(error) : error;
      this.#hooks.lost?.();
      for (const write of carried) write.reject(mapped);
      return;
    }
    this.#hooks.committed?.();
    this.#checkpoints.committed();
    for (const write of carried) write.resolve();
  }

  /** SQLite rolled the open transaction back: every write it carried fails. */
  #abandon(error: unknown): void {
    if (this.#timer !== null) {
      clearImmediate(this.#timer);
      this.#timer = null;
    }
    const carried = this.#pending;
    this.#pending = [];
    const atCommit = this.#atCommit;
    this.#atCommit = [];
    this.#open = false;
    const mapped = this.#hooks.mapError ? this.#hooks.mapError(error) : error;
    this.#hooks.lost?.();
    for (const write of carried) write.reject(mapped);
    for (const work of atCommit) work.fail(mapped);
  }

  #begin(): void {
    if (this.#open) return;
    this.#sql.exec("BEGIN IMMEDIATE");
    this.#open = true;
    this.#timer = setImmediate(() => {
      this.#timer = null;
      this.#commit();
    });
  }
}
