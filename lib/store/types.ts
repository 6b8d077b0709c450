/**
 * The store: the one source of truth for tasks, events, sources and learned
 * scores. Two implementations (embedded SQLite, Redis) pass one conformance
 * suite (`tests/store/conformance.ts`).
 *
 * Every method that changes a task is one atomic step. Every method takes `now`
 * (epoch ms) where time matters, so the suite can drive time.
 */

import type { CloudEvent, Json } from "../events/cloud-event.ts";
import type { ClaimBudget } from "../tasks/resources.ts";
import type { NewTask, Task, TaskError, TaskState } from "../tasks/task.ts";

/** Result of {@link Store.enqueue}. */
export interface EnqueueResult {
  task: Task;
  /** A live task with the same `key` existed; it is returned and nothing was created. */
  deduplicated: boolean;
}

/** Filter of {@link Store.listTasks}; newest first. */
export interface TaskFilter {
  state?: TaskState;
  queue?: string;
  type?: string;
  limit?: number;
}

/** Options of {@link Store.claim}. */
export interface ClaimOptions {
  workerId: string;
  /** Queues to take from; `null` = every queue. */
  queues: string[] | null;
  leaseMs: number;
  now: number;
  /**
   * Resources this claim may take; a task needing more is skipped (and tasks
   * behind it are considered). `null` or absent = no limit. Ignored with a
   * `budget`.
   */
  available?: Record<string, number> | null;
  /**
   * The most of each resource the claimer ever has. A skipped task that would
   * fit it holds back what it needs: tasks behind it only get what is left,
   * so it runs as soon as enough frees up instead of being overtaken for
   * ever. A task asking for more than this holds nothing back (it cannot run
   * here at all). Absent = no holding back. Ignored with a `budget`.
   */
  capacity?: Record<string, number> | null;
  /**
   * Resources shared by concurrent claims (a worker pool's): the claim takes
   * what is free from it and records what it took, so claims running at the
   * same moment never hand out the same unit twice. Replaces `available`
   * (the loan's free amounts) and `capacity` (the budget's).
   */
  budget?: ClaimBudget;
}

/** A task change that other parts must hear about (they become `task.*` events). */
export interface TaskTransition {
  task: Task;
  /** The state it left. */
  from: TaskState;
}

/** Result of {@link Store.complete}, {@link Store.fail}, {@link Store.cancel}: the task and any dependents that changed with it. */
export interface FinishResult {
  task: Task;
  /** Dependents released (now queued/scheduled) or failed because of this change. */
  dependents: TaskTransition[];
}

/** Counts per queue for `/health/queue` and `GET /un/queues`. */
export interface QueueCounts {
  waiting: number;
  scheduled: number;
  queued: number;
  running: number;
  retrying: number;
  succeeded: number;
  failed: number;
  dead: number;
  cancelled: number;
  expired: number;
}

/** History query of the event log; oldest first. */
export interface EventQuery {
  /** Only events whose type matches this pattern (`file.*`, `task.**`). */
  type?: string;
  /** Only events with an id greater than this one. */
  after?: string;
  limit: number;
}

/**
 * A named lease as held now: by whom, under which fence (it grows with every
 * change of holder, so it tells one holding from a later one of the same holder).
 *
 * @example
 * ```ts
 * const holding: LeaseHolding = { holder: "vm:4242:X1Y2Z3", fence: 3 };
 * ```
 */
export interface LeaseHolding {
  holder: string;
  fence: number;
}

/** Retention: what {@link Store.trim} removes. */
export interface RetentionPolicy {
  /** Finished tasks beyond this count (oldest first) are removed. */
  maxFinishedTasks: number;
  /** Finished tasks older than this (by finishedAt) are removed. */
  finishedTaskMaxAgeMs: number;
  /** Results of succeeded tasks older than this are cleared (the task stays). */
  resultTtlMs: number;
  /** Events beyond this count (oldest first) are removed. */
  maxEvents: number;
  /** Events older than this are removed. */
  eventMaxAgeMs: number;
}

/** A source definition as persisted (config seeds and ones added at run time). */
export interface StoredSource {
  id: string;
  kind: string;
  enabled: boolean;
  /** The full definition as validated (kind keys included). */
  spec: Record<string, Json>;
  /** `config` = from un.config.json; `api` = added at run time. */
  origin: "config" | "api";
  createdAt: number;
  updatedAt: number;
}

/** One file the fs scanner knows, for reconciliation after a restart or overflow. */
export interface FileEntry {
  path: string;
  size: number;
  mtimeMs: number;
}

/** Learned statistics of one task type (for the prioritizer's score). */
export interface TypeStats {
  type: string;
  runs: number;
  failures: number;
  /** Exponential moving average of run time. */
  avgMs: number;
  updatedAt: number;
}

/**
 * Runs of one task type gathered since the last write (see {@link Store.recordRuns}).
 *
 * @example
 * ```ts
 * const sample: RunSample = { runs: 40, failures: 2, meanMs: 12.5 };
 * ```
 */
export interface RunSample {
  /** Finished attempts (succeeded or failed). */
  runs: number;
  /** How many of them failed. */
  failures: number;
  /** Their mean run time (ms). */
  meanMs: number;
}

/** Alpha of the run-time moving average, per run. */
export const RUN_AVG_ALPHA = 0.2;

/**
 * How far one batch of `runs` runs moves the moving average toward its mean:
 * the same as applying alpha {@link RUN_AVG_ALPHA} once per run, each with the
 * batch's mean, so batching changes how often the store is written, not how
 * fast the average learns.
 *
 * @example
 * ```ts
 * runBatchWeight(1); // 0.2
 * runBatchWeight(2); // 0.36
 * ```
 */
export function runBatchWeight(runs: number): number {
  return 1 - (1 - RUN_AVG_ALPHA) ** runs;
}

/**
 * A running process as it last recorded itself (`GET /un/processes`): each
 * process refreshes its record every `scheduler.heartbeatMs`, and one that
 * stops doing so (killed, cut off) drops out of the list.
 *
 * @example
 * ```ts
 * const me: ProcessRecord = {
 *   id: "vm:4242:X1Y2Z3", role: "worker", host: "vm", pid: 4242, startedAt: 0, seenAt: 0,
 *   concurrency: 16, busy: 3, paused: false,
 * };
 * ```
 */
export interface ProcessRecord {
  /** The process id stamped on its events as `origin`. */
  id: string;
  role: string;
  host: string;
  pid: number;
  startedAt: number;
  /** When it last recorded itself. */
  seenAt: number;
  /** Worker slots (0 without a pool) and how many of them run a task. */
  concurrency: number;
  busy: number;
  paused: boolean;
  /**
   * Task types its workers can run (built-ins and its handlers module; empty
   * without a pool). Absent in records of older versions: unknown, so the
   * API cannot refuse a type on its account.
   */
  types?: string[];
  /** Names of the `exec` commands in its config (absent: unknown, as for `types`). */
  execCommands?: string[];
  /**
   * Capacity of each resource its workers have (`workers.resources`; empty
   * without a pool). Absent in records of older versions: unknown.
   */
  resources?: Record<string, number>;
}

/** The store contract. */
export interface Store {
  /** `sqlite` or `redis`. */
  readonly kind: string;

  // ---- tasks ----
  /** Creates a task (or returns the live one with the same key). Throws CycleError / ValidationError on bad `dependsOn`. */
  enqueue(task: NewTask, now: number): Promise<EnqueueResult>;
  /** Creates several tasks in one atomic step; `dependsOn` may name keys of tasks in the same batch. */
  enqueueMany(tasks: NewTask[], now: number): Promise<EnqueueResult[]>;
  getTask(id: string): Promise<Task | null>;
  listTasks(filter: TaskFilter): Promise<Task[]>;
  /** Takes the best ready task (lowest sortKey) and a lease on it; bumps `fence` and `attempts`. */
  claim(options: ClaimOptions): Promise<Task | null>;
  /** Extends a lease; false when the fence no longer holds. */
  renew(id: string, fence: number, leaseMs: number, now: number): Promise<boolean>;
  /** Records progress; throws LeaseLostError when the fence no longer holds. */
  progress(id: string, fence: number, fraction: number, message: string | null): Promise<void>;
  /** Marks success; throws LeaseLostError when the fence no longer holds. */
  complete(id: string, fence: number, result: Json, now: number): Promise<FinishResult>;
  /**
   * Records a failed attempt. With `retryAt` the task goes `retrying` (due then);
   * without, it ends `dead` (attempts used up) or `failed` (`error.permanent`).
   * Throws LeaseLostError when the fence no longer holds.
   */
  fail(
    id: string,
    fence: number,
    error: TaskError,
    retryAt: number | null,
    now: number,
  ): Promise<FinishResult>;
  /** Cancels a live task (running ones too: the worker's late result is refused). ConflictError if finished. */
  cancel(id: string, now: number): Promise<FinishResult>;
  /** Puts a failed, dead, cancelled or expired task back in the queue with fresh attempts. */
  retry(id: string, now: number): Promise<Task>;
  /** Changes priority and sort key of a task that has not started. */
  reprioritize(
    id: string,
    priority: number,
    sortKey: number,
    explanation: Task["explanation"],
  ): Promise<Task>;
  /** Moves `scheduled`/`retrying` tasks whose runAt has come to `queued`; returns them. */
  promoteDue(now: number): Promise<TaskTransition[]>;
  /** Earliest runAt among scheduled/retrying tasks, or null. */
  nextDueAt(): Promise<number | null>;
  /**
   * Leases that ran out: puts those tasks back in the queue (or `dead` when no
   * attempts are left). With `all`, every running task counts as stalled (embedded
   * start-up: nobody else can hold a lease).
   */
  recoverStalled(now: number, all?: boolean): Promise<TaskTransition[]>;
  /** Tasks whose `expiresAt` passed before they started become `expired`. */
  expireDue(now: number): Promise<TaskTransition[]>;
  /** Live tasks with a deadline before `before` that have not started (the prioritizer re-scores them). */
  tasksNearDeadline(before: number, limit: number): Promise<Task[]>;
  /** Counts by queue and state. */
  queueCounts(): Promise<Record<string, QueueCounts>>;
  /**
   * When the oldest queued task of each of these queues was enqueued (queues
   * with none queued are left out), for `un_queue_oldest_age_seconds`.
   * Optional: a store without it reports no age.
   */
  oldestQueuedAt?(queues: string[]): Promise<Record<string, number>>;

  // ---- learned scores ----
  /**
   * Folds a batch of finished runs of `type` into its statistics in one write:
   * `runs` and `failures` are added; `avgMs` moves toward `sample.meanMs` as if
   * each of the `runs` runs had taken that long and been applied one by one with
   * alpha 0.2 (weight `1 − 0.8^runs`; the type's first batch sets it). A sample
   * with fewer than one run changes nothing.
   */
  recordRuns(type: string, sample: RunSample, now: number): Promise<void>;
  typeStats(type: string): Promise<TypeStats | null>;

  // ---- events ----
  appendEvents(events: CloudEvent[]): Promise<void>;
  eventHistory(query: EventQuery): Promise<CloudEvent[]>;

  // ---- retention ----
  trim(
    policy: RetentionPolicy,
    now: number,
  ): Promise<{ tasks: number; events: number; results: number }>;

  // ---- sources, scanner state, file index ----
  listSources(): Promise<StoredSource[]>;
  getSource(id: string): Promise<StoredSource | null>;
  putSource(source: StoredSource): Promise<void>;
  deleteSource(id: string): Promise<boolean>;
  /** Small JSON state a scanner keeps between runs (ETag, cursor, seen ids). */
  getSourceState(sourceId: string, key: string): Promise<Json | null>;
  setSourceState(sourceId: string, key: string, value: Json | null): Promise<void>;
  listFiles(sourceId: string): Promise<FileEntry[]>;
  putFiles(sourceId: string, files: FileEntry[]): Promise<void>;
  deleteFiles(sourceId: string, paths: string[]): Promise<void>;

  // ---- coordination (trivial on the embedded store) ----
  /** Takes or renews a named lease; returns its fence, or null when another holder has it. */
  acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<number | null>;
  releaseLease(name: string, holder: string): Promise<void>;
  /** Who holds a named lease at `now`, and its fence; null when nobody does (free, or run out). */
  leaseHolder(name: string, now: number): Promise<LeaseHolding | null>;
  /** True exactly once per (name, tick) across every process sharing the store. */
  claimTick(name: string, tick: number): Promise<boolean>;
  /** Records or refreshes a process; it is listed until `now + ttlMs` unless recorded again. */
  recordProcess(record: ProcessRecord, ttlMs: number, now: number): Promise<void>;
  /** The processes whose records have not run out at `now`, by id (run-out records are removed). */
  listProcesses(now: number): Promise<ProcessRecord[]>;
  /** Removes a process's record (it stopped cleanly). */
  forgetProcess(id: string): Promise<void>;

  /** Cheap round trip: throws when the store cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
