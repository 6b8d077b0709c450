/**
 * Group commit: many writes, one COMMIT.
 *
 * A transaction per write costs a WAL append and lock round trip each time
 * (~36 000 rows/s on our machines, PLATFORM.md); the same rows batched commit at
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
 * - `flush()` (called by `close()`) commits what is pending at once.
 *
 * The commit is scheduled with `setImmediate` rather than `setTimeout(0)`:
 * Deno clamps nested zero timers (measured ~2.2 ms per hop on our machines,
 * which would cap a sequential caller at ~450 writes/s); `setImmediate` runs
 * after the current macrotask and pending I/O callbacks in ~6 µs, which gives
 * the same batching without the floor.
 *
 * If COMMIT itself fails (disk full, I/O error), the whole transaction is rolled
 * back and every write it carried rejects with that error.
 */

import { clearImmediate, setImmediate } from "node:timers";
import type { Sql } from "./statements.ts";

interface PendingWrite {
  resolve(): void;
  reject(error: unknown): void;
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
  #pending: PendingWrite[] = [];
  #open = false;
  #timer: ReturnType<typeof setImmediate> | null = null;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** True while a transaction is open and not yet committed. */
  get pending(): boolean {
    return this.#open;
  }

  /**
   * Runs `operation` now inside the shared transaction; the promise settles
   * with its value after the transaction commits, or at once with its error.
   */
  write<T>(operation: () => T): Promise<T> {
    this.#begin();
    this.#sql.exec("SAVEPOINT un_write");
    let value: T;
    try {
      value = operation();
    } catch (error) {
      this.#sql.exec("ROLLBACK TO un_write");
      this.#sql.exec("RELEASE un_write");
      return Promise.reject(error);
    }
    this.#sql.exec("RELEASE un_write");
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ resolve: () => resolve(value), reject });
    });
  }

  /** Commits the open transaction now (if any) and settles its writes. */
  flush(): void {
    if (this.#timer !== null) {
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
      for (const write of carried) write.reject(error);
      return;
    }
    for (const write of carried) write.resolve();
  }

  #begin(): void {
    if (this.#open) return;
    this.#sql.exec("BEGIN IMMEDIATE");
    this.#open = true;
    this.#timer = setImmediate(() => {
      this.#timer = null;
      this.flush();
    });
  }
}
