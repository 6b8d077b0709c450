/**
 * The embedded store: one SQLite file (`<dir>/un.db`) through `node:sqlite`.
 * Its parts: the connection with group commit, faults, ping and close
 * (`sqlite/access.ts`), subscriptions, sources, hooks and schedules
 * (`sqlite/definitions.ts`, which this extends), coordination
 * (`sqlite/coordination.ts`); tasks and events are here, over the
 * statements of `sqlite/*.ts`.
 *
 * Claims wait for the commit of the transaction they join and run together
 * just before it (see `sqlite/claim.ts`): after every write issued before,
 * one read of the ready tasks for the whole burst. A task's success is
 * recorded without reading the row back when this store claimed it.
 */

import type { CloudEvent, Json } from "../../events/cloud-event.ts";
import type { NewTask, Task, TaskError } from "../../tasks/task.ts";
import type { LeaseHolding, ProcessRecord } from "../coordination.ts";
import type { EventQuery } from "../event-store.ts";
import type { RetentionPolicy, TrimResult } from "../lifecycle.ts";
import type { RateLimit, RateLimitUsage } from "../queue-control.ts";
import { SqliteQueues } from "./queues.ts";
import type {
  ClaimOptions,
  EnqueueOptions,
  EnqueueResult,
  FinishResult,
  QueueCounts,
  RunSample,
  TaskChange,
  TaskChangeResult,
  TaskFilter,
  TaskTransition,
  TypeStats,
} from "../task-store.ts";
import type { Store } from "../types.ts";
import { SqliteAccess, type SqliteOpenOptions } from "./access.ts";
import { Claims } from "./claims.ts";
import { readTypeStats, recordTypeRuns, SqliteCoordination } from "./coordination.ts";
import { enqueueBatch } from "./enqueue.ts";
import * as batches from "./batches.ts";
import type { BatchListQuery, BatchPage, BatchPulse, BatchView } from "../batch-store.ts";
import { appendEventRows, readEventHistory } from "./events.ts";
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
import { SqliteDefinitions } from "./definitions.ts";
import { changeTaskRows } from "./task-bulk.ts";
import { expireDueTasks, promoteDueTasks, recoverStalledTasks } from "./sweeps.ts";
import {
  countByQueue,
  listTaskRows,
  nextDueTime,
  oldestQueuedAt,
  tasksWithDeadlineBefore,
} from "./task-queries.ts";
import { readTask } from "./task-rows.ts";

export { SQLITE_FILE, type SqliteOpenOptions } from "./access.ts";

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
export class SqliteStore extends SqliteDefinitions implements Store {
  readonly kind = "sqlite";
  /** The connection: group-committed writes, reads, faults, ping and close. */
  readonly #db: SqliteAccess;
  readonly #coordination: SqliteCoordination;
  /** Claims run at each commit, together (see `sqlite/claims.ts`). */
  readonly #claims: Claims;
  /** Paused queues and rate limits, which claims check. */
  readonly #queues: SqliteQueues;
  /** Some task may have dependencies (an edge was stored): finishes look for dependents. */
  #edges: boolean;
  /** Results of tasks that finished before this are cleared already (see `trimStore`). */
  #resultsClearedTo = 0;

  private constructor(db: SqliteAccess) {
    super(db);
    this.#db = db;
    this.#queues = new SqliteQueues(this.#db);
    this.#claims = new Claims(this.#db.sql, this.#db.commits, () => this.#queues.gate());
    this.#coordination = new SqliteCoordination(this.#db);
    this.#edges = this.#db.sql.get("SELECT 1 AS edge FROM task_deps LIMIT 1") !== undefined;
  }

  /**
   * Opens (creating when needed) the store in `dir`: the directory, then
   * `<dir>/un.db`, checked (`PRAGMA quick_check`), with its tables. A damaged
   * file throws StoreDamagedError naming it and the way out.
   */
  static open(dir: string, options: SqliteOpenOptions = {}): SqliteStore {
    // Told of a fault that drops the claims in flight, which comes only once the store is made.
    const db = SqliteAccess.open(dir, options, () => store.#claims.forgetAll());
    const store = new SqliteStore(db);
    return store;
  }

  // ---- queue control ----
  setQueuePaused(queue: string, paused: boolean): Promise<boolean> {
    return this.#queues.setQueuePaused(queue, paused);
  }
  pausedQueues(): Promise<string[]> {
    return this.#queues.pausedQueues();
  }
  /** `now`: the moment whose windows are counted from the tasks started in them (see queues.ts). */
  setRateLimits(limits: Record<string, RateLimit>, now?: number): Promise<void> {
    return this.#queues.setRateLimits(limits, now);
  }
  rateLimitUsage(now: number, group?: string | null): Promise<Record<string, RateLimitUsage>> {
    return this.#queues.rateLimitUsage(now, group);
  }

  // ---- tasks ----
  enqueue(task: NewTask, now: number, options?: EnqueueOptions): Promise<EnqueueResult> {
    if (task.dependsOn.length > 0) this.#edges = true;
    const grouped = this.#queues.grouped(task);
    return this.#db.write((sql) => enqueueBatch(sql, [grouped], now, options)[0]);
  }
  enqueueMany(tasks: NewTask[], now: number, options?: EnqueueOptions): Promise<EnqueueResult[]> {
    if (tasks.some((task) => task.dependsOn.length > 0)) this.#edges = true;
    const grouped = tasks.map((task) => this.#queues.grouped(task));
    return this.#db.write((sql) => enqueueBatch(sql, grouped, now, options));
  }
  getTask(id: string): Promise<Task | null> {
    return this.#db.read((sql) => readTask(sql, id));
  }
  getBatch(id: string): Promise<BatchView | null> {
    return this.#db.read((sql) => batches.readBatch(sql, id));
  }
  batchTasks(id: string, limit = 1_000): Promise<Task[]> {
    return this.#db.read((sql) => batches.readBatchTasks(sql, id, limit));
  }
  batchPulse(id: string): Promise<BatchPulse | null> {
    return this.#db.read((sql) => batches.readBatchPulse(sql, id));
  }
  settleBatch(id: string, now: number): Promise<BatchView | null> {
    return this.#db.write((sql) => batches.settleBatchRow(sql, id, now));
  }
  openBatches(limit: number): Promise<string[]> {
    return this.#db.read((sql) => batches.readOpenBatches(sql, limit));
  }
  listBatches(query: BatchListQuery): Promise<BatchPage> {
    return this.#db.read((sql) => batches.listBatchRows(sql, query));
  }
  listTasks(filter: TaskFilter): Promise<Task[]> {
    return this.#db.read((sql) => listTaskRows(sql, filter));
  }
  changeTasks(change: TaskChange, now: number): Promise<TaskChangeResult> {
    return this.#db.write((sql) => changeTaskRows(sql, change, now));
  }
  claim(options: ClaimOptions): Promise<Task | null> {
    return this.#db.writing(() => this.#claims.claim(options));
  }
  renew(id: string, fence: number, leaseMs: number, now: number): Promise<boolean> {
    return this.#db.write((sql) => renewLease(sql, id, fence, leaseMs, now), true);
  }
  progress(id: string, fence: number, fraction: number, message: string | null): Promise<void> {
    return this.#db.write((sql) => {
      recordProgress(sql, id, fence, fraction, message);
      this.#claims.progressed(id, fence, message);
    }, true);
  }
  complete(id: string, fence: number, result: Json, now: number): Promise<FinishResult> {
    if (!this.#edges) {
      // A task claimed here, with no dependents to release: at the commit, with the burst's others.
      try {
        this.#db.mayWrite();
        const recording = this.#claims.succeed(id, fence, result, now);
        if (recording !== null) return recording;
      } catch (error) {
        return Promise.reject(this.#db.faults.map(error));
      }
    }
    const hints = { claimed: this.#claims.take(id), edges: this.#edges };
    // Without dependents to release, the success is one UPDATE.
    return this.#db.write((sql) => completeTask(sql, id, fence, result, now, hints), !this.#edges);
  }
  fail(
    id: string,
    fence: number,
    error: TaskError,
    retryAt: number | null,
    now: number,
  ): Promise<FinishResult> {
    this.#claims.take(id);
    return this.#db.write((sql) => failTask(sql, id, fence, error, retryAt, now));
  }
  cancel(id: string, now: number): Promise<FinishResult> {
    return this.#db.write((sql) => cancelTask(sql, id, now));
  }
  retry(id: string, now: number): Promise<Task> {
    return this.#db.write((sql) => retryTask(sql, id, now));
  }
  reprioritize(
    id: string,
    priority: number,
    sortKey: number,
    explanation: Task["explanation"],
  ): Promise<Task> {
    return this.#db.write((sql) => reprioritizeTask(sql, id, priority, sortKey, explanation));
  }
  promoteDue(now: number): Promise<TaskTransition[]> {
    return this.#db.write((sql) => promoteDueTasks(sql, now));
  }
  nextDueAt(): Promise<number | null> {
    return this.#db.read(nextDueTime);
  }
  recoverStalled(now: number, all = false): Promise<TaskTransition[]> {
    return this.#db.write((sql) => recoverStalledTasks(sql, now, all));
  }
  expireDue(now: number): Promise<TaskTransition[]> {
    return this.#db.write((sql) => expireDueTasks(sql, now));
  }
  tasksNearDeadline(before: number, limit: number): Promise<Task[]> {
    return this.#db.read((sql) => tasksWithDeadlineBefore(sql, before, limit));
  }
  queueCounts(): Promise<Record<string, QueueCounts>> {
    return this.#db.read(countByQueue);
  }
  oldestQueuedAt(queues: string[]): Promise<Record<string, number>> {
    return this.#db.read((sql) => oldestQueuedAt(sql, queues));
  }
  recordRuns(type: string, sample: RunSample, now: number): Promise<void> {
    return this.#db.write((sql) => recordTypeRuns(sql, type, sample, now));
  }
  typeStats(type: string): Promise<TypeStats | null> {
    return this.#db.read((sql) => readTypeStats(sql, type));
  }

  // ---- events ----
  appendEvents(events: CloudEvent[]): Promise<void> {
    return this.#db.write((sql) => appendEventRows(sql, events));
  }
  eventHistory(query: EventQuery): Promise<CloudEvent[]> {
    return this.#db.read((sql) => readEventHistory(sql, query));
  }

  // ---- coordination (sqlite/coordination.ts) ----
  acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<number | null> {
    return this.#coordination.acquireLease(name, holder, ttlMs, now);
  }
  releaseLease(name: string, holder: string): Promise<void> {
    return this.#coordination.releaseLease(name, holder);
  }
  leaseHolder(name: string, now: number): Promise<LeaseHolding | null> {
    return this.#coordination.leaseHolder(name, now);
  }
  claimTick(name: string, tick: number): Promise<boolean> {
    return this.#coordination.claimTick(name, tick);
  }
  recordProcess(record: ProcessRecord, ttlMs: number, now: number): Promise<void> {
    return this.#coordination.recordProcess(record, ttlMs, now);
  }
  listProcesses(now: number): Promise<ProcessRecord[]> {
    return this.#coordination.listProcesses(now);
  }
  forgetProcess(id: string): Promise<void> {
    return this.#coordination.forgetProcess(id);
  }

  // ---- lifecycle (sqlite/access.ts) ----
  trim(policy: RetentionPolicy, now: number): Promise<TrimResult> {
    const cutoff = now - policy.resultTtlMs;
    const from = this.#resultsClearedTo;
    return this.#db.write((sql) => trimStore(sql, policy, now, from)).then((trimmed) => {
      // Tasks finish at the time of their finish, later than this cutoff: the
      // next clearing starts here (a clock set back by more than the TTL
      // leaves some results for the next start).
      this.#resultsClearedTo = Math.max(this.#resultsClearedTo, cutoff);
      return trimmed;
    });
  }
  /** Rejects with a StoreFaultError naming the reason while the file is at fault. */
  ping(): Promise<void> {
    return this.#db.ping();
  }
  /** Commits pending writes and closes the file; later calls reject with UnavailableError. */
  close(): Promise<void> {
    return this.#db.close();
  }
}
