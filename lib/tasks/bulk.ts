/**
 * Bulk actions by filter (`POST /un/tasks/bulk`, queue drain and obliterate):
 * the matching tasks are read a batch at a time in listing order (creation,
 * newest first, which no change moves, so none is seen twice), and each batch
 * is changed in one atomic store step (TaskStore.changeTasks). Between batches
 * the rest of the process gets the event loop for as long as the batch took,
 * so claims and other writes keep flowing: none waits behind more than one
 * batch. Each changed task is announced with the event
 * its single-task action emits; a dry run only counts.
 */

import type { EventInit } from "../events/cloud-event.ts";
import type { TaskFilter, TaskStore, TypeStats } from "../store/types.ts";
import type { PriorityOptions } from "./priority.ts";
import { scoreTask } from "./priority.ts";
import { keyWithRules } from "./score-rules.ts";
import type { Task } from "./task.ts";
import { kindOfState, taskEvent, transitionEvents } from "./task-events.ts";

/** What a bulk action does to each matching task. */
export const BULK_ACTIONS = ["cancel", "retry", "delete", "reprioritize"] as const;
/** One of {@link BULK_ACTIONS}. */
export type BulkAction = typeof BULK_ACTIONS[number];

/** Tasks per batch: one store step each (about 10–30 ms on either store). */
export const BULK_BATCH = 500;

/** A bulk action over the tasks a filter matches. */
export interface BulkRequest {
  action: BulkAction;
  /** The new priority (reprioritize only). */
  priority?: number;
  filter: Omit<TaskFilter, "after" | "limit">;
  /** At most this many matching tasks (newest first); absent = all. */
  limit?: number;
  /** Count only. */
  dryRun?: boolean;
}

/** What a bulk action did. */
export interface BulkReport {
  /** Tasks the filter matched. */
  matched: number;
  /** Tasks the action changed (the others were in a state it does not apply to). */
  changed: number;
}

/** What a bulk action needs of the runtime. */
export interface BulkDeps {
  store: Pick<TaskStore, "listTasks" | "changeTasks" | "typeStats">;
  now(): number;
  /** Announces changes (the `task.*` events a single action emits). */
  emit(inits: EventInit[]): void;
  /** Tells the pool that `count` tasks became ready. */
  ready(count: number): void;
  prioritizer: PriorityOptions;
  /** Tasks per batch (default {@link BULK_BATCH}). */
  batch?: number;
}

/**
 * After a batch that took `ms`, the event loop is left to the rest of the
 * process for as long (at most 50 ms): a bulk action takes at most half of
 * it, so claims and their commits keep flowing instead of getting one turn
 * between batches.
 */
const pause = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.min(50, Math.max(1, ms))));

/**
 * Runs a bulk action to the end.
 *
 * @example
 * ```ts
 * await runBulk(deps, { action: "retry", filter: { state: "dead", queue: "mail" } }); // { matched: 12, changed: 12 }
 * ```
 */
export async function runBulk(deps: BulkDeps, request: BulkRequest): Promise<BulkReport> {
  const batch = deps.batch ?? BULK_BATCH;
  const max = request.limit ?? Infinity;
  const stats = new Map<string, TypeStats | null>();
  const report: BulkReport = { matched: 0, changed: 0 };
  let after: Task | undefined;
  while (report.matched < max) {
    const started = performance.now();
    const want = Math.min(batch, max - report.matched);
    const page = await deps.store.listTasks({
      ...request.filter,
      limit: want,
      ...(after ? { after: { createdAt: after.createdAt, id: after.id } } : {}),
    });
    if (page.length === 0) break;
    report.matched += page.length;
    after = page[page.length - 1];
    if (!request.dryRun) report.changed += await changeBatch(deps, request, page, stats);
    if (page.length < want) break;
    await pause(performance.now() - started);
  }
  return report;
}

async function changeBatch(
  deps: BulkDeps,
  request: BulkRequest,
  page: Task[],
  stats: Map<string, TypeStats | null>,
): Promise<number> {
  const now = deps.now();
  if (request.action === "reprioritize") {
    const priority = request.priority ?? 5;
    for (const type of new Set(page.map((t) => t.type))) {
      if (!stats.has(type)) stats.set(type, await deps.store.typeStats(type));
    }
    const tasks = page.map((task) => {
      const scored = scoreTask({
        priority,
        enqueuedAt: task.enqueuedAt,
        deadline: task.deadline,
        stats: stats.get(task.type) ?? null,
        now,
      }, deps.prioritizer);
      const [sortKey, explanation] = keyWithRules(deps.prioritizer, { ...task, priority }, scored);
      return { id: task.id, priority, sortKey, explanation };
    });
    return (await deps.store.changeTasks({ action: "reprioritize", tasks }, now)).tasks.length;
  }
  const ids = page.map((t) => t.id);
  const { tasks, dependents } = await deps.store.changeTasks({ action: request.action, ids }, now);
  const inits: EventInit[] = [];
  if (request.action === "cancel") {
    // task.cancelled reaches the pool (here, or elsewhere through the bridge),
    // which aborts a worker running the task: the single cancel's path.
    for (const task of tasks) inits.push(taskEvent("cancelled", task));
  } else if (request.action === "retry") {
    for (const task of tasks) inits.push(taskEvent(kindOfState(task), task, { state: task.state }));
    const ready = tasks.filter((t) => t.state === "queued").length;
    if (ready > 0) deps.ready(ready);
  }
  const reason = request.action === "delete"
    ? "a dependency was deleted"
    : "a dependency was cancelled";
  inits.push(...transitionEvents(dependents, reason));
  if (inits.length > 0) deps.emit(inits);
  return tasks.length;
}
