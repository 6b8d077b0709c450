/**
 * The store: the one source of truth for tasks, events, sources and learned
 * scores, split by concern so each part of the runtime depends only on what
 * it uses:
 * - {@link TaskStore} (`task-store.ts`): tasks and the learned statistics per type;
 * - {@link EventStore} (`event-store.ts`): the event log;
 * - {@link SourceStore} (`source-store.ts`): source definitions, scanner state, file index;
 * - {@link SubscriptionStore} (`subscription-store.ts`): webhook subscriptions, their deliveries;
 * - {@link HookStore} (`hook-store.ts`): hooks added at run time;
 * - {@link ScheduleStore} (`schedule-store.ts`): schedules added at run time, pauses, last runs;
 * - {@link Coordination} (`coordination.ts`): named leases, ticks, the process registry;
 * - {@link StoreLifecycle} (`lifecycle.ts`): kind, ping, retention, close.
 *
 * Two implementations (embedded SQLite, Redis) pass one conformance suite
 * (`tests/store/conformance.ts`), split the same way.
 */

import type { Coordination } from "./coordination.ts";
import type { EventStore } from "./event-store.ts";
import type { StoreLifecycle } from "./lifecycle.ts";
import type { SourceStore } from "./source-store.ts";
import type { HookStore } from "./hook-store.ts";
import type { SubscriptionStore } from "./subscription-store.ts";
import type { ScheduleStore } from "./schedule-store.ts";
import type { TaskStore } from "./task-store.ts";

export type {
  BatchListQuery,
  BatchPage,
  BatchPosition,
  BatchPulse,
  BatchState,
  BatchStore,
  BatchView,
  SettleOptions,
} from "./batch-store.ts";
export type { Coordination, LeaseHolding, ProcessRecord } from "./coordination.ts";
export type { EventQuery, EventStore } from "./event-store.ts";
export type { HookStore, StoredHook } from "./hook-store.ts";
export type { ScheduleRun, ScheduleStore, StoredSchedule } from "./schedule-store.ts";
export type { RetentionPolicy, StoreLifecycle, TrimResult } from "./lifecycle.ts";
export type { StoredSubscription, SubscriptionStore } from "./subscription-store.ts";
export type {
  FileEntry,
  ParsedSource,
  SourceStore,
  StoredSource,
  UnparsedSource,
} from "./source-store.ts";
export type {
  ClaimOptions,
  EnqueueOptions,
  EnqueueResult,
  FinishResult,
  QueueCounts,
  RunModel,
  RunSample,
  TaskChange,
  TaskChangeResult,
  TaskFilter,
  TaskPosition,
  TaskStore,
  TaskTransition,
  TypeStats,
} from "./task-store.ts";
export {
  MIN_RUN_MS,
  modelAfter,
  RUN_AVG_ALPHA,
  runBatchWeight,
  storedModel,
} from "./task-store.ts";

/** The whole store contract: every part, as both implementations provide it. */
export type Store =
  & TaskStore
  & EventStore
  & SourceStore
  & HookStore
  & SubscriptionStore
  & ScheduleStore
  & Coordination
  & StoreLifecycle;
