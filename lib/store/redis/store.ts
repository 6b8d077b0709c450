/**
 * The Redis store: every process pointing at the same Redis (and prefix) shares tasks, events,
 * sources, leases and ticks. Each task change is one Lua script, so claim and complete are one
 * round trip each and atomic across processes; claims and completes made at the same moment share
 * one script run (`batcher.ts`). The parts live in `lib/store/redis/`: key layout (`keys.ts`),
 * task hash encoding (`codec.ts`), scripts (`scripts/*.lua`), task creation and reads
 * (`tasks.ts`), batches (`batches.ts`), the worker's lease path (`leases.ts`), cancel/retry/sweeps
 * (`lifecycle.ts`), events and coordination, and, in `definitions.ts`, subscriptions, sources, hooks and schedules; opening (`open.ts`), and what `ping()`
 * reports besides an outage: Redis out of memory (`faults.ts`) or having lost its data
 * (`epoch.ts`).
 */

import type { CloudEvent, Json } from "../../events/cloud-event.ts";
import { ValidationError } from "../../errors.ts";
import type { NewTask, Task, TaskError } from "../../tasks/task.ts";
import type { LeaseHolding, ProcessRecord } from "../coordination.ts";
import type { EventQuery } from "../event-store.ts";
import type { RetentionPolicy, TrimResult } from "../lifecycle.ts";
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
import { Batcher } from "./batcher.ts";
import { ClaimedTasks } from "./claimed.ts";
import type { RedisFaults } from "./faults.ts";
import {
  closeParts,
  openParts,
  pingParts,
  type RedisStoreOptions,
  type StoreParts,
} from "./open.ts";
import type { AckResult, FaultReporting, StoreFaultChange } from "./fault-report.ts";
import * as batches from "./batches.ts";
import type {
  BatchListQuery,
  BatchPage,
  BatchPulse,
  BatchView,
  SettleOptions,
} from "../batch-store.ts";
import * as tasks from "./tasks.ts";
import { changeTasks } from "./task-bulk.ts";
import * as leases from "./leases.ts";
import * as lifecycle from "./lifecycle.ts";
import * as events from "./events.ts";
import * as coordination from "./coordination.ts";
import * as processes from "./processes.ts";
import * as queues from "./queues.ts";
import { withRateGroup } from "../rate-groups.ts";
import { RedisDefinitions } from "./definitions.ts";
import type { RateLimit, RateLimitUsage } from "../queue-control.ts";

export type { RedisStoreOptions } from "./open.ts";

/**
 * {@link Store} on Redis (ioredis).
 *
 * @example
 * ```ts
 * const store = await RedisStore.open({ url: "redis://127.0.0.1:6379", prefix: "un:" });
 * const task = await store.claim({ workerId: "w1", queues: null, leaseMs: 30_000, now: Date.now() });
 * await store.close();
 * ```
 */
export class RedisStore extends RedisDefinitions implements Store, FaultReporting {
  readonly kind = "redis";
  /** The connection, its watch, the bridge's gate and the faults (see `open.ts`). */
  readonly #parts: StoreParts;
  /** The rate limits this process set: the templates of limits by group key, rendered at enqueue. */
  #limits: ReadonlyMap<string, RateLimit> = new Map();
  // Claims and completes made at the same moment share one script run.
  readonly #leases: Batcher<leases.LeaseCall, leases.LeaseResult>;
  // What this instance claimed: its complete needs no copy of the task back.
  readonly #claimed = new ClaimedTasks(10_000);
  /** Out of memory, lost data: what `ping()` reports besides an outage. */
  readonly #faults: RedisFaults;

  private constructor(parts: StoreParts) {
    const { ctx, gate, faults } = parts;
    super(ctx);
    this.#parts = parts;
    this.#faults = faults;
    gate?.start();
    this.#leases = new Batcher((calls) => leases.leaseMany(ctx, this.#claimed, calls));
  }

  /**
   * Connects, loads the scripts, reads (or, on first use, writes) the epoch
   * and returns the store. Throws {@link UnavailableError} when Redis cannot
   * be reached.
   */
  static async open(options: RedisStoreOptions): Promise<RedisStore> {
    return new RedisStore(await openParts(options));
  }

  // ---- queue control ----
  setQueuePaused(queue: string, paused: boolean): Promise<boolean> {
    return queues.setQueuePaused(this.ctx, queue, paused);
  }
  pausedQueues(): Promise<string[]> {
    return queues.pausedQueues(this.ctx);
  }
  setRateLimits(limits: Record<string, RateLimit>): Promise<void> {
    // This process renders group keys at enqueue with its own limits' templates.
    this.#limits = new Map(Object.entries(limits));
    return queues.setRateLimits(this.ctx, limits);
  }
  rateLimitUsage(now: number, group?: string | null): Promise<Record<string, RateLimitUsage>> {
    return queues.rateLimitUsage(this.ctx, now, group);
  }

  // ---- tasks ----
  async enqueue(task: NewTask, now: number, options?: EnqueueOptions): Promise<EnqueueResult> {
    const grouped = withRateGroup(this.#limits, task);
    const [result] = await tasks.enqueueMany(this.ctx, [grouped], now, options);
    return result;
  }
  enqueueMany(list: NewTask[], now: number, options?: EnqueueOptions): Promise<EnqueueResult[]> {
    const grouped = list.map((task) => withRateGroup(this.#limits, task));
    return tasks.enqueueMany(this.ctx, grouped, now, options);
  }
  getTask(id: string): Promise<Task | null> {
    return tasks.getTask(this.ctx, id);
  }
  getBatch(id: string): Promise<BatchView | null> {
    return batches.getBatch(this.ctx, id);
  }
  batchTasks(id: string, limit = 1_000): Promise<Task[]> {
    return batches.batchTasks(this.ctx, id, limit);
  }
  batchPulse(id: string): Promise<BatchPulse | null> {
    return batches.batchPulse(this.ctx, id);
  }
  settleBatch(id: string, now: number, options?: SettleOptions): Promise<BatchView | null> {
    return batches.settleBatch(this.ctx, id, now, options);
  }
  openBatches(limit: number): Promise<string[]> {
    return batches.openBatches(this.ctx, limit);
  }
  listBatches(query: BatchListQuery): Promise<BatchPage> {
    return batches.listBatches(this.ctx, query);
  }
  listTasks(filter: TaskFilter): Promise<Task[]> {
    return tasks.listTasks(this.ctx, filter);
  }
  changeTasks(change: TaskChange, now: number): Promise<TaskChangeResult> {
    // A cancelled or deleted task's late result must not take the claim's fast path.
    if (change.action !== "reprioritize") change.ids.forEach((id) => this.#claimed.forget(id));
    return changeTasks(this.ctx, change, now);
  }
  claim(options: ClaimOptions): Promise<Task | null> {
    if (options.workerId === "") {
      return Promise.reject(
        new ValidationError("workerId must not be empty", { field: "workerId", value: "" }),
      );
    }
    // A task claimed now could not record its outcome (the claim script
    // itself may get through: its first write frees memory), and each
    // claim would add events that must wait in this process.
    if (this.#faults.oom.active) return Promise.reject(this.#faults.oom.error("claim"));
    return this.#leases.call({ kind: "claim", options }) as Promise<Task | null>;
  }
  renew(id: string, fence: number, leaseMs: number, now: number): Promise<boolean> {
    return leases.renew(this.ctx, id, fence, leaseMs, now);
  }
  progress(id: string, fence: number, fraction: number, message: string | null): Promise<void> {
    return leases.progress(this.ctx, id, fence, fraction, message);
  }
  complete(id: string, fence: number, result: Json, now: number): Promise<FinishResult> {
    return this.#leases.call({ kind: "complete", call: { id, fence, result, now } }) as Promise<
      FinishResult
    >;
  }
  fail(
    id: string,
    fence: number,
    error: TaskError,
    retryAt: number | null,
    now: number,
  ): Promise<FinishResult> {
    this.#claimed.forget(id);
    return leases.fail(this.ctx, id, fence, error, retryAt, now);
  }
  cancel(id: string, now: number): Promise<FinishResult> {
    this.#claimed.forget(id);
    return lifecycle.cancel(this.ctx, id, now);
  }
  retry(id: string, now: number): Promise<Task> {
    return lifecycle.retry(this.ctx, id, now);
  }
  reprioritize(
    id: string,
    priority: number,
    sortKey: number,
    explanation: Task["explanation"],
  ): Promise<Task> {
    return lifecycle.reprioritize(this.ctx, id, priority, sortKey, explanation);
  }
  promoteDue(now: number): Promise<TaskTransition[]> {
    return lifecycle.promoteDue(this.ctx, now);
  }
  nextDueAt(): Promise<number | null> {
    return lifecycle.nextDueAt(this.ctx);
  }
  recoverStalled(now: number, all = false): Promise<TaskTransition[]> {
    return lifecycle.recoverStalled(this.ctx, now, all);
  }
  expireDue(now: number): Promise<TaskTransition[]> {
    return lifecycle.expireDue(this.ctx, now);
  }
  tasksNearDeadline(before: number, limit: number): Promise<Task[]> {
    return tasks.tasksNearDeadline(this.ctx, before, limit);
  }
  queueCounts(): Promise<Record<string, QueueCounts>> {
    return tasks.queueCounts(this.ctx);
  }
  oldestQueuedAt(queues: string[]): Promise<Record<string, number>> {
    return tasks.oldestQueuedAt(this.ctx, queues);
  }

  // ---- learned scores ----
  recordRuns(type: string, sample: RunSample, now: number): Promise<void> {
    return coordination.recordRuns(this.ctx, type, sample, now);
  }
  typeStats(type: string): Promise<TypeStats | null> {
    return coordination.typeStats(this.ctx, type);
  }

  // ---- events ----
  appendEvents(list: CloudEvent[]): Promise<void> {
    return events.appendEvents(this.ctx, list);
  }
  eventHistory(query: EventQuery): Promise<CloudEvent[]> {
    return events.eventHistory(this.ctx, query);
  }

  // ---- retention ----
  async trim(policy: RetentionPolicy, now: number): Promise<TrimResult> {
    const trimmed = await lifecycle.trimTasks(this.ctx, policy, now);
    const removedEvents = await events.trimEvents(
      this.ctx,
      now - policy.eventMaxAgeMs,
      policy.maxEvents,
    );
    return { tasks: trimmed.tasks, events: removedEvents, results: trimmed.results };
  }

  // ---- coordination ----
  acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<number | null> {
    return coordination.acquireLease(this.ctx, name, holder, ttlMs, now);
  }
  releaseLease(name: string, holder: string): Promise<void> {
    return coordination.releaseLease(this.ctx, name, holder);
  }
  leaseHolder(name: string, now: number): Promise<LeaseHolding | null> {
    return coordination.leaseHolder(this.ctx, name, now);
  }
  claimTick(name: string, tick: number): Promise<boolean> {
    return coordination.claimTick(this.ctx, name, tick);
  }
  /** The heartbeat: records the process and checks the epoch (has Redis lost its data?). */
  async recordProcess(record: ProcessRecord, ttlMs: number, now: number): Promise<void> {
    await Promise.all([
      processes.recordProcess(this.ctx, record, ttlMs, now),
      this.#faults.epoch.check(),
    ]);
  }
  listProcesses(now: number): Promise<ProcessRecord[]> {
    return processes.listProcesses(this.ctx, now);
  }
  forgetProcess(id: string): Promise<void> {
    return processes.forgetProcess(this.ctx, id);
  }

  // ---- faults ----
  /** Listens to Redis's faults: out of memory, lost data (see lib/store/redis/faults.ts). */
  onFault(listener: (change: StoreFaultChange) => void): () => void {
    return this.#faults.onFault(listener);
  }
  /** Acknowledges a loss of data for every process (`un store ack-reset`). */
  ackReset(): Promise<AckResult> {
    return this.#faults.ackReset();
  }

  /** Fails at once during an outage, and while Redis refuses writes or lost its data (see `open.ts`). */
  ping(): Promise<void> {
    return pingParts(this.#parts);
  }
  /** Closes the connection without hanging on a Redis that is gone; safe to call twice. */
  close(): Promise<void> {
    return closeParts(this.#parts);
  }
}
