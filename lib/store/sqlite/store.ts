/**
 * The embedded store: one SQLite file (`<dir>/un.db`) through `node:sqlite`,
 * WAL mode, `synchronous=NORMAL`.
 *
 * Writes go through group commit (see `sqlite/group_commit.ts`): they run at
 * once inside a shared transaction that commits on the next macrotask, and a
 * write's promise resolves only after that COMMIT, so an acknowledged write
 * survives `kill -9`. Reads run directly on the same connection and see
 * writes of the open transaction.
 *
 * Claims wait for the commit of the transaction they join and run together
 * just before it (see `sqlite/claim.ts`): after every write issued before,
 * one read of the ready tasks for the whole burst. A task's success is
 * recorded without reading the row back when this store claimed it.
 */

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { StoreDiskError, StoreFaultError, UnavailableError } from "../../errors.ts";
import type { CloudEvent, Json } from "../../events/cloud-event.ts";
import type { NewTask, Task, TaskError } from "../../tasks/task.ts";
import type {
  ClaimOptions,
  EnqueueResult,
  EventQuery,
  FileEntry,
  FinishResult,
  LeaseHolding,
  ProcessRecord,
  QueueCounts,
  RetentionPolicy,
  RunSample,
  Store,
  StoredSource,
  TaskFilter,
  TaskTransition,
  TypeStats,
} from "../types.ts";
import { Claims } from "./claims.ts";
import { liveProcesses, removeProcess, writeProcess } from "./processes.ts";
import {
  acquireNamedLease,
  claimOnce,
  namedLeaseHolder,
  readTypeStats,
  recordTypeRuns,
  releaseNamedLease,
} from "./coordination.ts";
import { enqueueBatch } from "./enqueue.ts";
import { appendEventRows, readEventHistory } from "./events.ts";
import { type StoreFaultOptions, StoreFaults } from "./faults.ts";
import { GroupCommit } from "./group-commit.ts";
import { openChecked } from "./integrity.ts";
import {
  cancelTask,
  completeTask,
  failTask,
  recordProgress,
  renewLease,
  reprioritizeTask,
  retryTask,
} from "./lifecycle.ts";
import { trimStore } from "./retention.ts";
import { applySchema } from "./schema.ts";
import {
  listFileRows,
  listSourceRows,
  readSource,
  readSourceState,
  removeFiles,
  removeSource,
  writeFiles,
  writeSource,
  writeSourceState,
} from "./sources.ts";
import { Sql } from "./statements.ts";
import { expireDueTasks, promoteDueTasks, recoverStalledTasks } from "./sweeps.ts";
import {
  countByQueue,
  listTaskRows,
  nextDueTime,
  oldestQueuedAt,
  tasksWithDeadlineBefore,
} from "./task-queries.ts";
import { readTask } from "./task-rows.ts";

/**
 * File name of the database inside the store directory.
 *
 * @example
 * ```ts
 * join(".un", SQLITE_FILE); // ".un/un.db"
 * ```
 */
export const SQLITE_FILE = "un.db";

/**
 * Options of {@link SqliteStore.open}: `watchMs`, how often to look whether the
 * store directory or file was deleted or replaced (default: only on `ping()`),
 * and `onFault`, told once when a fault begins and when a disk fault ends.
 *
 * @example
 * ```ts
 * const options: SqliteOpenOptions = { watchMs: 250, onFault: (c) => console.error(c.error?.message) };
 * ```
 */
export type SqliteOpenOptions = Omit<StoreFaultOptions, "totalChanges">;

/**
 * {@link Store} on an embedded SQLite file.
 *
 * @example
 * ```ts
 * const store = SqliteStore.open(".un");
 * const { task } = await store.enqueue(newTask, Date.now());
 * const claimed = await store.claim({ workerId: "w1", queues: null, leaseMs: 30_000, now: Date.now() });
 * await store.close();
 * ```
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly #db: DatabaseSync;
  readonly #sql: Sql;
  readonly #commits: GroupCommit;
  readonly #faults: StoreFaults;
  #closed = false;
  /** Claims run at each commit, together (see `sqlite/claims.ts`). */
  readonly #claims: Claims;
  /** Some task may have dependencies (an edge was stored): finishes look for dependents. */
  #edges: boolean;
  /** Results of tasks that finished before this are cleared already (see `trimStore`). */
  #resultsClearedTo = 0;

  private constructor(db: DatabaseSync, dir: string, options: SqliteOpenOptions) {
    this.#db = db;
    this.#sql = new Sql(db);
    this.#faults = new StoreFaults(dir, join(dir, SQLITE_FILE), {
      ...options,
      totalChanges: () => Number(this.#sql.get("SELECT total_changes() AS n")?.n ?? 0),
    });
    this.#commits = new GroupCommit(this.#sql, {
      mapError: (error) => this.#faults.map(error),
      committed: () => this.#faults.committed(),
      lost: () => this.#claims.forgetAll(),
    });
    this.#claims = new Claims(this.#sql, this.#commits);
    this.#edges = this.#sql.get("SELECT 1 AS edge FROM task_deps LIMIT 1") !== undefined;
  }

  /**
   * Opens (creating when needed) the store in `dir`: the directory, then
   * `<dir>/un.db`, checked (`PRAGMA quick_check`), with its tables. A damaged
   * file throws StoreDamagedError naming it and the way out.
   *
   * @example
   * ```ts
   * const store = SqliteStore.open(".un");
   * ```
   */
  static open(dir: string, options: SqliteOpenOptions = {}): SqliteStore {
    mkdirSync(dir, { recursive: true });
    return new SqliteStore(openChecked(join(dir, SQLITE_FILE), applySchema), dir, options);
  }

  /**
   * Runs a change under group commit; resolves after its COMMIT. `oneChange`:
   * it changes the database with one statement at most (no savepoint needed).
   */
  #write<T>(operation: (sql: Sql) => T, oneChange = false): Promise<T> {
    return this.#writing(() => this.#commits.write(() => operation(this.#sql), oneChange));
  }

  /** Starts a write (now, or at the commit) unless the store is closed or refuses writes. */
  #writing<T>(start: () => Promise<T>): Promise<T> {
    try {
      this.#mayWrite();
      return start();
    } catch (error) {
      return Promise.reject(this.#faults.map(error));
    }
  }

  #mayWrite(): void {
    this.#assertOpen();
    this.#faults.refuseWrite();
  }

  /** Runs a read now (it sees uncommitted writes of this process). */
  #read<T>(query: (sql: Sql) => T): Promise<T> {
    try {
      this.#assertOpen();
      return Promise.resolve(query(this.#sql));
    } catch (error) {
      return Promise.reject(this.#faults.map(error));
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new UnavailableError("the SQLite store is closed");
  }

  // ---- tasks ----
  enqueue(task: NewTask, now: number): Promise<EnqueueResult> {
    if (task.dependsOn.length > 0) this.#edges = true;
    return this.#write((sql) => enqueueBatch(sql, [task], now)[0]);
  }
  enqueueMany(tasks: NewTask[], now: number): Promise<EnqueueResult[]> {
    if (tasks.some((task) => task.dependsOn.length > 0)) this.#edges = true;
    return this.#write((sql) => enqueueBatch(sql, tasks, now));
  }
  getTask(id: string): Promise<Task | null> {
    return this.#read((sql) => readTask(sql, id));
  }
  listTasks(filter: TaskFilter): Promise<Task[]> {
    return this.#read((sql) => listTaskRows(sql, filter));
  }
  claim(options: ClaimOptions): Promise<Task | null> {
    return this.#writing(() => this.#claims.claim(options));
  }
  renew(id: string, fence: number, leaseMs: number, now: number): Promise<boolean> {
    return this.#write((sql) => renewLease(sql, id, fence, leaseMs, now), true);
  }
  progress(id: string, fence: number, fraction: number, message: string | null): Promise<void> {
    return this.#write((sql) => {
      recordProgress(sql, id, fence, fraction, message);
      this.#claims.progressed(id, fence, message);
    }, true);
  }
  complete(id: string, fence: number, result: Json, now: number): Promise<FinishResult> {
    if (!this.#edges) {
      // A task claimed here, with no dependents to release: at the commit, with the burst's others.
      try {
        this.#mayWrite();
        const recording = this.#claims.succeed(id, fence, result, now);
        if (recording !== null) return recording;
      } catch (error) {
        return Promise.reject(this.#faults.map(error));
      }
    }
    const hints = { claimed: this.#claims.take(id), edges: this.#edges };
    // Without dependents to release, the success is one UPDATE.
    return this.#write((sql) => completeTask(sql, id, fence, result, now, hints), !this.#edges);
  }
  fail(
    id: string,
    fence: number,
    error: TaskError,
    retryAt: number | null,
    now: number,
  ): Promise<FinishResult> {
    this.#claims.take(id);
    return this.#write((sql) => failTask(sql, id, fence, error, retryAt, now));
  }
  cancel(id: string, now: number): Promise<FinishResult> {
    return this.#write((sql) => cancelTask(sql, id, now));
  }
  retry(id: string, now: number): Promise<Task> {
    return this.#write((sql) => retryTask(sql, id, now));
  }
  reprioritize(
    id: string,
    priority: number,
    sortKey: number,
    explanation: Task["explanation"],
  ): Promise<Task> {
    return this.#write((sql) => reprioritizeTask(sql, id, priority, sortKey, explanation));
  }
  promoteDue(now: number): Promise<TaskTransition[]> {
    return this.#write((sql) => promoteDueTasks(sql, now));
  }
  nextDueAt(): Promise<number | null> {
    return this.#read(nextDueTime);
  }
  recoverStalled(now: number, all = false): Promise<TaskTransition[]> {
    return this.#write((sql) => recoverStalledTasks(sql, now, all));
  }
  expireDue(now: number): Promise<TaskTransition[]> {
    return this.#write((sql) => expireDueTasks(sql, now));
  }
  tasksNearDeadline(before: number, limit: number): Promise<Task[]> {
    return this.#read((sql) => tasksWithDeadlineBefore(sql, before, limit));
  }
  queueCounts(): Promise<Record<string, QueueCounts>> {
    return this.#read(countByQueue);
  }
  oldestQueuedAt(queues: string[]): Promise<Record<string, number>> {
    return this.#read((sql) => oldestQueuedAt(sql, queues));
  }

  // ---- learned scores ----
  recordRuns(type: string, sample: RunSample, now: number): Promise<void> {
    return this.#write((sql) => recordTypeRuns(sql, type, sample, now));
  }
  typeStats(type: string): Promise<TypeStats | null> {
    return this.#read((sql) => readTypeStats(sql, type));
  }

  // ---- events ----
  appendEvents(events: CloudEvent[]): Promise<void> {
    return this.#write((sql) => appendEventRows(sql, events));
  }
  eventHistory(query: EventQuery): Promise<CloudEvent[]> {
    return this.#read((sql) => readEventHistory(sql, query));
  }

  // ---- retention ----
  trim(
    policy: RetentionPolicy,
    now: number,
  ): Promise<{ tasks: number; events: number; results: number }> {
    const cutoff = now - policy.resultTtlMs;
    const from = this.#resultsClearedTo;
    return this.#write((sql) => trimStore(sql, policy, now, from)).then((trimmed) => {
      // Tasks finish at the time of their finish, later than this cutoff: the
      // next clearing starts here (a clock set back by more than the TTL
      // leaves some results for the next start).
      this.#resultsClearedTo = Math.max(this.#resultsClearedTo, cutoff);
      return trimmed;
    });
  }

  // ---- sources, scanner state, file index ----
  listSources(): Promise<StoredSource[]> {
    return this.#read(listSourceRows);
  }
  getSource(id: string): Promise<StoredSource | null> {
    return this.#read((sql) => readSource(sql, id));
  }
  putSource(source: StoredSource): Promise<void> {
    return this.#write((sql) => writeSource(sql, source));
  }
  deleteSource(id: string): Promise<boolean> {
    return this.#write((sql) => removeSource(sql, id));
  }
  getSourceState(sourceId: string, key: string): Promise<Json | null> {
    return this.#read((sql) => readSourceState(sql, sourceId, key));
  }
  setSourceState(sourceId: string, key: string, value: Json | null): Promise<void> {
    return this.#write((sql) => writeSourceState(sql, sourceId, key, value));
  }
  listFiles(sourceId: string): Promise<FileEntry[]> {
    return this.#read((sql) => listFileRows(sql, sourceId));
  }
  putFiles(sourceId: string, files: FileEntry[]): Promise<void> {
    return this.#write((sql) => writeFiles(sql, sourceId, files));
  }
  deleteFiles(sourceId: string, paths: string[]): Promise<void> {
    return this.#write((sql) => removeFiles(sql, sourceId, paths));
  }

  // ---- coordination ----
  acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<number | null> {
    return this.#write((sql) => acquireNamedLease(sql, name, holder, ttlMs, now));
  }
  releaseLease(name: string, holder: string): Promise<void> {
    return this.#write((sql) => releaseNamedLease(sql, name, holder));
  }
  leaseHolder(name: string, now: number): Promise<LeaseHolding | null> {
    return this.#read((sql) => namedLeaseHolder(sql, name, now));
  }
  claimTick(name: string, tick: number): Promise<boolean> {
    return this.#write((sql) => claimOnce(sql, name, tick));
  }
  recordProcess(record: ProcessRecord, ttlMs: number, now: number): Promise<void> {
    return this.#write((sql) => writeProcess(sql, record, ttlMs, now));
  }
  listProcesses(now: number): Promise<ProcessRecord[]> {
    return this.#write((sql) => liveProcesses(sql, now));
  }
  forgetProcess(id: string): Promise<void> {
    return this.#write((sql) => removeProcess(sql, id));
  }

  /**
   * Resolves when the store can serve; otherwise rejects with a
   * StoreFaultError whose reason `/health` lists (deleted, replaced or
   * damaged store; full disk). While the disk is full it tries one small
   * write, so the fault ends as soon as space is back, writes or not.
   */
  async ping(): Promise<void> {
    this.#assertOpen();
    this.#faults.check();
    try {
      const fault = this.#faults.current;
      if (fault instanceof StoreDiskError) {
        await this.#write((sql) =>
          sql.run(
            "INSERT INTO store_probe (id, at) VALUES (1, :now) ON CONFLICT (id) DO UPDATE SET at = :now",
            { now: Date.now() },
          )
        );
      } else if (fault !== null) {
        throw fault;
      } else {
        await this.#read((sql) => sql.get("SELECT 1"));
      }
    } catch (error) {
      const fault = this.#faults.current;
      throw fault !== null && error === fault ? new StoreFaultError([fault.message]) : error;
    }
  }

  /** Commits pending writes and closes the file; later calls reject with UnavailableError. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#faults.stop();
    try {
      this.#commits.flush();
      this.#db.close();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
