/**
 * Builders and small assertions shared by the store conformance cases.
 */

import { type CloudEvent, type Json, newId } from "../../../lib/events/cloud-event.ts";
import type { ClaimOptions, TaskStore } from "../../../lib/store/types.ts";
import type { NewTask, ScoreExplanation, Task } from "../../../lib/tasks/task.ts";

/**
 * A fixed epoch (2023-11-14T22:13:20Z) the cases count time from.
 *
 * @example
 * ```ts
 * await store.enqueue(newTask({ runAt: T0 + 1_000 }), T0); // scheduled
 * ```
 */
export const T0 = 1_700_000_000_000;

/**
 * One conformance case of the part `S` of the store (default: the tasks);
 * it gets a fresh, empty store it may use freely.
 *
 * @example
 * ```ts
 * const ping: StoreCase<StoreLifecycle> = (store) => store.ping();
 * ```
 */
export type StoreCase<S = TaskStore> = (store: S) => Promise<void>;

/**
 * A minimal, valid score explanation for a sort key.
 *
 * @example
 * ```ts
 * explanationFor(T0).sortKey; // T0
 * ```
 */
export function explanationFor(sortKey: number, priority = 5): ScoreExplanation {
  return {
    formula: "sortKey = enqueuedAt - priority*priorityStepMs - scoreMs - urgencyMs",
    priority,
    priorityStepMs: 0,
    scoreMs: 0,
    urgencyMs: 0,
    enqueuedAt: sortKey,
    sortKey,
    notes: [],
  };
}

/**
 * A new task with sensible defaults (queue `default`, priority 5, 3 attempts,
 * sortKey T0, created at T0); `overrides` win. Ids come from `newId()`, so tasks
 * built later sort after earlier ones.
 *
 * @example
 * ```ts
 * const task = newTask({ key: "reindex", dependsOn: ["other-key"] });
 * ```
 */
export function newTask(overrides: Partial<NewTask> = {}): NewTask {
  const sortKey = overrides.sortKey ?? T0;
  return {
    id: newId(),
    type: "noop",
    queue: "default",
    payload: { n: 1 },
    priority: 5,
    sortKey,
    score: 0,
    explanation: explanationFor(sortKey, overrides.priority ?? 5),
    maxAttempts: 3,
    dependsOn: [],
    runAt: null,
    deadline: null,
    expiresAt: null,
    timeoutMs: null,
    key: null,
    resources: {},
    correlationId: null,
    createdAt: T0,
    ...overrides,
  };
}

/**
 * Enqueues a task and returns the stored one.
 *
 * @example
 * ```ts
 * const task = await add(store, { queue: "mail" });
 * ```
 */
export async function add(
  store: TaskStore,
  overrides: Partial<NewTask> = {},
  now = T0,
): Promise<Task> {
  return (await store.enqueue(newTask(overrides), now)).task;
}

/**
 * Claims with worker `w1`, every queue, a 30 s lease, at `now`.
 *
 * @example
 * ```ts
 * const running = await claimNext(store, T0, { queues: ["mail"] });
 * ```
 */
export function claimNext(
  store: TaskStore,
  now = T0,
  options: Partial<ClaimOptions> = {},
): Promise<Task | null> {
  return store.claim({ workerId: "w1", queues: null, leaseMs: 30_000, now, ...options });
}

/**
 * Claims and returns a task, failing the case when nothing could be claimed.
 *
 * @example
 * ```ts
 * const running = await mustClaim(store);
 * ```
 */
export async function mustClaim(
  store: TaskStore,
  now = T0,
  options: Partial<ClaimOptions> = {},
): Promise<Task> {
  const task = await claimNext(store, now, options);
  if (task === null) throw new Error("expected a task to claim, got none");
  return task;
}

/**
 * Enqueues one task, claims it and completes it at `now`; returns the finished task.
 *
 * @example
 * ```ts
 * const done = await finished(store, T0 + 5_000, { ok: true });
 * ```
 */
export async function finished(
  store: TaskStore,
  now: number,
  result: Json = { ok: true },
  overrides: Partial<NewTask> = {},
): Promise<Task> {
  const task = await add(store, { queue: `finish-${newId()}`, ...overrides }, now);
  const running = await mustClaim(store, now, { queues: [task.queue] });
  return (await store.complete(running.id, running.fence, result, now)).task;
}

/**
 * The stored task, failing the case when it does not exist.
 *
 * @example
 * ```ts
 * (await fetchTask(store, id)).state; // "queued"
 * ```
 */
export async function fetchTask(store: TaskStore, id: string): Promise<Task> {
  const task = await store.getTask(id);
  if (task === null) throw new Error(`task ${id} should exist`);
  return task;
}

/**
 * A CloudEvent of `type` at `timeMs` with a fresh (time-ordered) id.
 *
 * @example
 * ```ts
 * const e = cloudEvent("file.created", T0);
 * ```
 */
export function cloudEvent(type: string, timeMs = T0, data: Json = null): CloudEvent {
  return {
    id: newId(),
    source: "/un/sources/test",
    specversion: "1.0",
    type,
    time: new Date(timeMs).toISOString(),
    datacontenttype: "application/json",
    data,
    priority: "normal",
    origin: "conformance",
  };
}
