/**
 * The definitions part of the Redis store: webhook subscriptions, sources
 * (with their scan state and file index), hooks added at run time and
 * schedules, each a plain read or write in its own module. `RedisStore`
 * extends it with tasks, events, coordination and the connection's life.
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
import type { RedisContext } from "./context.ts";
import { RedisHooks } from "./hooks.ts";
import * as schedules from "./schedules.ts";
import * as sources from "./sources.ts";
import * as subscriptions from "./subscriptions.ts";

/** Subscriptions, sources, run-time hooks and schedules on Redis. */
export class RedisDefinitions implements SourceStore, HookStore, ScheduleStore, SubscriptionStore {
  protected readonly ctx: RedisContext;

  constructor(ctx: RedisContext) {
    this.ctx = ctx;
  }

  // ---- webhook subscriptions (subscriptions.ts) ----
  listSubscriptions(): Promise<StoredSubscription[]> {
    return subscriptions.listSubscriptions(this.ctx);
  }
  getSubscription(id: string): Promise<StoredSubscription | null> {
    return subscriptions.getSubscription(this.ctx, id);
  }
  putSubscription(subscription: StoredSubscription): Promise<void> {
    return subscriptions.putSubscription(this.ctx, subscription);
  }
  updateSubscription(id: string, change: SubscriptionEdit): Promise<SubscriptionUpdate | null> {
    return subscriptions.updateSubscription(this.ctx, id, change);
  }
  deleteSubscription(id: string): Promise<boolean> {
    return subscriptions.deleteSubscription(this.ctx, id);
  }
  addDelivery(subscriptionId: string, taskId: string): Promise<void> {
    return subscriptions.addDelivery(this.ctx, subscriptionId, taskId);
  }
  listDeliveries(subscriptionId: string, limit: number): Promise<string[]> {
    return subscriptions.listDeliveries(this.ctx, subscriptionId, limit);
  }

  // ---- sources, scanner state, file index ----
  listSources(): Promise<StoredSource[]> {
    return sources.listSources(this.ctx);
  }
  getSource(id: string): Promise<StoredSource | null> {
    return sources.getSource(this.ctx, id);
  }
  putSource(source: ParsedSource): Promise<void> {
    return sources.putSource(this.ctx, source);
  }
  putSourceIfAbsent(source: ParsedSource): Promise<StoredSource | null> {
    return sources.putSourceIfAbsent(this.ctx, source);
  }
  deleteSource(id: string): Promise<boolean> {
    return sources.deleteSource(this.ctx, id);
  }
  getSourceState(sourceId: string, key: string): Promise<Json | null> {
    return sources.getSourceState(this.ctx, sourceId, key);
  }
  setSourceState(sourceId: string, key: string, value: Json | null): Promise<void> {
    return sources.setSourceState(this.ctx, sourceId, key, value);
  }
  listFiles(sourceId: string): Promise<FileEntry[]> {
    return sources.listFiles(this.ctx, sourceId);
  }
  putFiles(sourceId: string, files: FileEntry[]): Promise<void> {
    return sources.putFiles(this.ctx, sourceId, files);
  }
  deleteFiles(sourceId: string, paths: string[]): Promise<void> {
    return sources.deleteFiles(this.ctx, sourceId, paths);
  }

  // ---- hooks added at run time (hooks.ts) ----
  listHooks(): Promise<StoredHook[]> {
    return new RedisHooks(this.ctx).listHooks();
  }
  getHook(id: string): Promise<StoredHook | null> {
    return new RedisHooks(this.ctx).getHook(id);
  }
  putHook(hook: StoredHook): Promise<void> {
    return new RedisHooks(this.ctx).putHook(hook);
  }
  deleteHook(id: string): Promise<boolean> {
    return new RedisHooks(this.ctx).deleteHook(id);
  }
  sampleHook(id: string, every: number): Promise<boolean> {
    return new RedisHooks(this.ctx).sampleHook(id, every);
  }

  // ---- schedules (schedules.ts) ----
  listSchedules(): Promise<StoredSchedule[]> {
    return schedules.listSchedules(this.ctx);
  }
  getSchedule(id: string): Promise<StoredSchedule | null> {
    return schedules.getSchedule(this.ctx, id);
  }
  putSchedule(schedule: StoredSchedule): Promise<void> {
    return schedules.putSchedule(this.ctx, schedule);
  }
  putScheduleIfAbsent(schedule: StoredSchedule): Promise<StoredSchedule | null> {
    return schedules.putScheduleIfAbsent(this.ctx, schedule);
  }
  deleteSchedule(id: string): Promise<boolean> {
    return schedules.deleteSchedule(this.ctx, id);
  }
  recordScheduleRun(id: string, run: ScheduleRun): Promise<void> {
    return schedules.recordScheduleRun(this.ctx, id, run);
  }
  scheduleRuns(): Promise<Record<string, ScheduleRun>> {
    return schedules.scheduleRuns(this.ctx);
  }
}
