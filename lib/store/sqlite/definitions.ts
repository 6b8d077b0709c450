/**
 * The definitions part of the embedded store: webhook subscriptions, sources
 * (with their scan state and file index), hooks added at run time and
 * schedules, each kept by its own module. `SqliteStore` extends it with
 * tasks, events, coordination and the file's life.
 */

import type { Json } from "../../events/cloud-event.ts";
import type { FileEntry, ParsedSource, SourceStore, StoredSource } from "../source-store.ts";
import type { HookStore, StoredHook } from "../hook-store.ts";
import type { ScheduleRun, ScheduleStore, StoredSchedule } from "../schedule-store.ts";
import type {
  StoredSubscription,
  SubscriptionEdit,
  SubscriptionStore,
  SubscriptionUpdate,
} from "../subscription-store.ts";
import type { SqliteAccess } from "./access.ts";
import { SqliteHooks } from "./hooks.ts";
import { SqliteSchedules } from "./schedules.ts";
import { SqliteSources } from "./sources.ts";
import { SqliteSubscriptions } from "./subscriptions.ts";

/** Subscriptions, sources, run-time hooks and schedules in the embedded store. */
export class SqliteDefinitions implements SourceStore, HookStore, ScheduleStore, SubscriptionStore {
  readonly #sources: SqliteSources;
  readonly #hooks: SqliteHooks;
  readonly #schedules: SqliteSchedules;
  readonly #subscriptions: SqliteSubscriptions;

  constructor(db: SqliteAccess) {
    this.#sources = new SqliteSources(db);
    this.#hooks = new SqliteHooks(db, db.sql);
    this.#schedules = new SqliteSchedules(db);
    this.#subscriptions = new SqliteSubscriptions(db);
  }

  // ---- webhook subscriptions (sqlite/subscriptions.ts) ----
  listSubscriptions(): Promise<StoredSubscription[]> {
    return this.#subscriptions.listSubscriptions();
  }
  getSubscription(id: string): Promise<StoredSubscription | null> {
    return this.#subscriptions.getSubscription(id);
  }
  putSubscription(subscription: StoredSubscription): Promise<void> {
    return this.#subscriptions.putSubscription(subscription);
  }
  updateSubscription(id: string, change: SubscriptionEdit): Promise<SubscriptionUpdate | null> {
    return this.#subscriptions.updateSubscription(id, change);
  }
  deleteSubscription(id: string): Promise<boolean> {
    return this.#subscriptions.deleteSubscription(id);
  }
  addDelivery(subscriptionId: string, taskId: string): Promise<void> {
    return this.#subscriptions.addDelivery(subscriptionId, taskId);
  }
  listDeliveries(subscriptionId: string, limit: number): Promise<string[]> {
    return this.#subscriptions.listDeliveries(subscriptionId, limit);
  }

  // ---- sources (sqlite/sources.ts) ----
  listSources(): Promise<StoredSource[]> {
    return this.#sources.listSources();
  }
  getSource(id: string): Promise<StoredSource | null> {
    return this.#sources.getSource(id);
  }
  putSource(source: ParsedSource): Promise<void> {
    return this.#sources.putSource(source);
  }
  putSourceIfAbsent(source: ParsedSource): Promise<StoredSource | null> {
    return this.#sources.putSourceIfAbsent(source);
  }
  deleteSource(id: string): Promise<boolean> {
    return this.#sources.deleteSource(id);
  }
  getSourceState(sourceId: string, key: string): Promise<Json | null> {
    return this.#sources.getSourceState(sourceId, key);
  }
  setSourceState(sourceId: string, key: string, value: Json | null): Promise<void> {
    return this.#sources.setSourceState(sourceId, key, value);
  }
  listFiles(sourceId: string): Promise<FileEntry[]> {
    return this.#sources.listFiles(sourceId);
  }
  putFiles(sourceId: string, files: FileEntry[]): Promise<void> {
    return this.#sources.putFiles(sourceId, files);
  }
  deleteFiles(sourceId: string, paths: string[]): Promise<void> {
    return this.#sources.deleteFiles(sourceId, paths);
  }

  // ---- hooks added at run time (sqlite/hooks.ts) ----
  listHooks(): Promise<StoredHook[]> {
    return this.#hooks.listHooks();
  }
  getHook(id: string): Promise<StoredHook | null> {
    return this.#hooks.getHook(id);
  }
  putHook(hook: StoredHook): Promise<void> {
    return this.#hooks.putHook(hook);
  }
  deleteHook(id: string): Promise<boolean> {
    return this.#hooks.deleteHook(id);
  }
  sampleHook(id: string, every: number): Promise<boolean> {
    return this.#hooks.sampleHook(id, every);
  }

  // ---- schedules (sqlite/schedules.ts) ----
  listSchedules(): Promise<StoredSchedule[]> {
    return this.#schedules.listSchedules();
  }
  getSchedule(id: string): Promise<StoredSchedule | null> {
    return this.#schedules.getSchedule(id);
  }
  putSchedule(schedule: StoredSchedule): Promise<void> {
    return this.#schedules.putSchedule(schedule);
  }
  putScheduleIfAbsent(schedule: StoredSchedule): Promise<StoredSchedule | null> {
    return this.#schedules.putScheduleIfAbsent(schedule);
  }
  deleteSchedule(id: string): Promise<boolean> {
    return this.#schedules.deleteSchedule(id);
  }
  recordScheduleRun(id: string, run: ScheduleRun): Promise<void> {
    return this.#schedules.recordScheduleRun(id, run);
  }
  scheduleRuns(): Promise<Record<string, ScheduleRun>> {
    return this.#schedules.scheduleRuns();
  }
}
