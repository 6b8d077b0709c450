/**
 * "Why is my task waiting?" (`GET /un/tasks/:id/why`, `un why <id>`): a
 * task's place in its queue, its sort key in words, what holds it, and when
 * it may start. Read from the store as it is now: nothing is kept for it.
 *
 * Holds are listed in the order they bite: a task waiting on dependencies or
 * a future `runAt` is not in line yet; a queued task may still be held by
 * its paused queue, the queue's rate limit, a resource no live worker has (or
 * has free) and the lack of a live process that runs its type.
 */

import type { ResourceUse } from "./resources.ts";
import type { Coordination, ProcessRecord } from "../store/coordination.ts";
import type { TaskStore } from "../store/task-store.ts";
import { resourceWait } from "../safety/resource-fit.ts";
import { describeScore } from "./priority.ts";
import type { Task, TaskState } from "./task.ts";

/** What {@link whyWaiting} reads. */
export interface WhyDeps {
  store:
    & Pick<TaskStore, "getTask" | "listTasks" | "pausedQueues" | "rateLimitUsage">
    & Pick<Coordination, "listProcesses">;
  now: number;
  /** This process's pool resources (capacity and use), when it has a pool. */
  localResources?: Readonly<Record<string, ResourceUse>> | null;
}

/** One reason a task does not start now. */
export interface Hold {
  kind:
    | "dependencies"
    | "scheduled"
    | "retrying"
    | "paused"
    | "rateLimited"
    | "resources"
    | "noProcess";
  /** The reason in words. */
  message: string;
  /** When it lifts by itself (epoch ms), if it does. */
  until?: number;
  /** Dependencies not done yet. */
  dependencies?: Array<{ id: string; type: string | null; state: TaskState | "missing" }>;
  /** Each resource short, and the most any live process has (or has free). */
  resources?: Array<{ resource: string; needs: number; most: number }>;
}

/** Where a task stands in its queue's line. */
export interface Position {
  /** 1 for the next to start; for a task not queued yet, where it would stand now. */
  place: number;
  /** Queued tasks of its queue that go first. */
  ahead: number;
  /** Of those, how many at each priority. */
  aheadByPriority: Record<string, number>;
  /** Only the first {@link MAX_SCANNED} queued tasks were looked at: counts are at least these. */
  partial?: boolean;
}

/** The answer of {@link whyWaiting}. */
export interface WhyAnswer {
  task: Pick<Task, "id" | "type" | "queue" | "state" | "priority" | "sortKey">;
  /** One line: waiting, and on what; running; or finished. */
  summary: string;
  /** Null for a task that started or finished. */
  position: Position | null;
  /** The sort key's formula and one sentence per term (the prioritizer's own explanation). */
  sortKey: { formula: string; terms: string[] };
  /** The deadline and how urgent it makes the task, when it has one. */
  urgency: { deadline: number; inMs: number; urgencyMs: number } | null;
  /** The scoring rules that matched it when it was scored. */
  rules: Array<{ name: string; levels: number }>;
  holds: Hold[];
  /** When it may start, from the queue's recent throughput; null when unknown or held for good. */
  estimate: { startAt: number; inMs: number; basis: string } | null;
}

/** At most this many queued tasks are read to find a task's place. */
export const MAX_SCANNED = 20_000;
/** Throughput is measured over tasks of the queue finished this recently. */
export const THROUGHPUT_WINDOW_MS = 5 * 60_000;
const PAGE = 1_000;
const MAX_DEPENDENCIES = 100;

const NOT_STARTED: ReadonlySet<TaskState> = new Set(["waiting", "scheduled", "queued", "retrying"]);

/**
 * Explains why the task waits, or null when the store has no such task.
 *
 * @example
 * ```ts
 * const why = await whyWaiting(store, id, { store, now: Date.now() });
 * why?.holds.map((h) => h.kind); // ["paused"]
 * ```
 */
export async function whyWaiting(id: string, deps: WhyDeps): Promise<WhyAnswer | null> {
  const task = await deps.store.getTask(id);
  if (task === null) return null;
  const described = describeScore(task.explanation);
  const base = {
    task: {
      id: task.id,
      type: task.type,
      queue: task.queue,
      state: task.state,
      priority: task.priority,
      sortKey: task.sortKey,
    },
    sortKey: { formula: described.formula, terms: described.notes },
    urgency: task.deadline === null ? null : {
      deadline: task.deadline,
      inMs: task.deadline - deps.now,
      urgencyMs: task.explanation.urgencyMs,
    },
    rules: task.explanation.rules ?? [],
  };
  if (!NOT_STARTED.has(task.state)) {
    const summary = task.state === "running"
      ? `running since ${iso(task.startedAt ?? deps.now)} (attempt ${task.attempts})`
      : `not waiting: ${task.state}`;
    return { ...base, summary, position: null, holds: [], estimate: null };
  }
  const [position, holds] = await Promise.all([positionOf(task, deps), holdsOf(task, deps)]);
  const estimate = await estimateStart(task, position, holds, deps);
  const summary = holds.length === 0
    ? `queued, number ${position.place} in line in queue ${task.queue}`
    : `held: ${holds.map((h) => h.message).join("; ")}`;
  return { ...base, summary, position, holds, estimate };
}

/** Counts the queued tasks of the task's queue that claim order puts first (sortKey, then id). */
async function positionOf(task: Task, deps: WhyDeps): Promise<Position> {
  const aheadByPriority: Record<string, number> = {};
  let ahead = 0;
  let scanned = 0;
  let after: { createdAt: number; id: string } | undefined;
  while (scanned < MAX_SCANNED) {
    const page = await deps.store.listTasks({
      state: "queued",
      queue: task.queue,
      after,
      limit: PAGE,
    });
    for (const other of page) {
      if (other.id === task.id) continue;
      const first = other.sortKey < task.sortKey ||
        (other.sortKey === task.sortKey && other.id < task.id);
      if (!first) continue;
      ahead++;
      aheadByPriority[other.priority] = (aheadByPriority[other.priority] ?? 0) + 1;
    }
    scanned += page.length;
    if (page.length < PAGE) return { place: ahead + 1, ahead, aheadByPriority };
    const last = page[page.length - 1];
    after = { createdAt: last.createdAt, id: last.id };
  }
  return { place: ahead + 1, ahead, aheadByPriority, partial: true };
}

async function holdsOf(task: Task, deps: WhyDeps): Promise<Hold[]> {
  const { store, now } = deps;
  const holds: Hold[] = [];
  if (task.state === "waiting") holds.push(await dependencyHold(task, deps));
  if (task.state === "scheduled" && task.runAt !== null) {
    holds.push({
      kind: "scheduled",
      message: `scheduled to run at ${iso(task.runAt)}`,
      until: task.runAt,
    });
  }
  if (task.state === "retrying") {
    const until = task.runAt ?? now;
    holds.push({
      kind: "retrying",
      message: `attempt ${task.attempts} failed; retried at ${iso(until)}`,
      until,
    });
  }
  const [paused, limits, processes] = await Promise.all([
    store.pausedQueues(),
    // With the task's group, a limit by group key shows the window its claims check.
    store.rateLimitUsage(now, task.rateGroup ?? null),
    store.listProcesses(now),
  ]);
  if (paused.includes(task.queue)) {
    holds.push({ kind: "paused", message: `queue ${task.queue} is paused` });
  }
  const limit = limits[task.queue];
  if (limit !== undefined && limit.count >= limit.max) {
    const whose = limit.by === undefined
      ? `queue ${task.queue}`
      : `queue ${task.queue}, group ${JSON.stringify(task.rateGroup ?? "")} (by ${limit.by})`;
    holds.push({
      kind: "rateLimited",
      message: `rate limited until ${iso(limit.until)}: ${whose} allows ${limit.max} per ` +
        `${limit.perMs}ms, ${limit.count} started this window`,
      until: limit.until,
    });
  }
  const resources = resourceHold(task, processes, deps.localResources ?? null);
  if (resources !== null) holds.push(resources);
  const workers = processes.filter((p) => p.concurrency > 0);
  if (workers.length === 0) {
    holds.push({ kind: "noProcess", message: "no live process has workers" });
  } else if (workers.every((p) => p.types !== undefined && !p.types.includes(task.type))) {
    holds.push({
      kind: "noProcess",
      message: `no live process runs type ${task.type} (${workers.length} with workers alive)`,
    });
  }
  return holds;
}

async function dependencyHold(task: Task, deps: WhyDeps): Promise<Hold> {
  const ids = task.dependsOn.slice(0, MAX_DEPENDENCIES);
  const found = await Promise.all(ids.map((id) => deps.store.getTask(id)));
  const pending = ids.flatMap((id, i) => {
    const dep = found[i];
    if (dep?.state === "succeeded") return [];
    return [{ id, type: dep?.type ?? null, state: dep?.state ?? "missing" as const }];
  });
  const list = pending.map((d) => `${d.id} (${d.type ?? "?"}, ${d.state})`).join(", ");
  return {
    kind: "dependencies",
    message: `waits for ${pending.length} ${
      pending.length === 1 ? "dependency" : "dependencies"
    } not done: ${list}`,
    dependencies: pending,
  };
}

/**
 * A resource no live worker has enough of, or, on this process's pool, one
 * its running tasks hold now.
 */
function resourceHold(
  task: Task,
  processes: readonly ProcessRecord[],
  local: Readonly<Record<string, ResourceUse>> | null,
): Hold | null {
  const wait = resourceWait(task.resources, processes);
  if (wait !== null) {
    return {
      kind: "resources",
      message: `waits for resources: ${wait.message}`,
      resources: wait.missing,
    };
  }
  if (local === null) return null;
  const short = Object.entries(task.resources)
    .filter(([name, needs]) =>
      needs > 0 && needs > (local[name]?.capacity ?? 0) - (local[name]?.inUse ?? 0)
    )
    .map(([resource, needs]) => ({
      resource,
      needs,
      most: Math.max(0, (local[resource]?.capacity ?? 0) - (local[resource]?.inUse ?? 0)),
    }));
  // A capacity this process lacks altogether is another process's to judge (resourceWait above).
  if (short.length === 0 || short.some((s) => (local[s.resource]?.capacity ?? 0) < s.needs)) {
    return null;
  }
  const text = short.map((s) => `${s.resource}: ${s.needs} (${s.most} free)`).join(", ");
  return {
    kind: "resources",
    message: `waits for resources in use by running tasks: needs ${text}`,
    resources: short,
  };
}

/**
 * When the task may start: after every hold that lifts by itself, and after
 * the tasks ahead of it at the queue's recent rate (tasks finished in the
 * last {@link THROUGHPUT_WINDOW_MS}). Null when a hold has no end of its own
 * (paused, no process, a resource no one has) or nothing finished lately.
 */
async function estimateStart(
  task: Task,
  position: Position,
  holds: Hold[],
  deps: WhyDeps,
): Promise<WhyAnswer["estimate"]> {
  const { now } = deps;
  // Paused, no process, a resource no one has, dependencies: none ends at a known time.
  if (holds.some((h) => h.until === undefined)) return null;
  const from = Math.max(now, ...holds.map((h) => h.until ?? now));
  if (position.ahead === 0) {
    return { startAt: from, inMs: from - now, basis: "first in line" };
  }
  const since = now - THROUGHPUT_WINDOW_MS;
  const recent = await deps.store.listTasks({
    queue: task.queue,
    createdAfter: since - THROUGHPUT_WINDOW_MS,
    limit: PAGE,
  });
  const finished = recent.filter((t) => t.finishedAt !== null && t.finishedAt >= since);
  if (finished.length === 0) return null;
  const first = Math.min(...finished.map((t) => t.finishedAt!));
  const spanMs = Math.max(1_000, now - first);
  const perSecond = finished.length / (spanMs / 1_000);
  const startAt = Math.round(from + (position.ahead / perSecond) * 1_000);
  return {
    startAt,
    inMs: startAt - now,
    basis: `${position.ahead} ahead at ${round(perSecond)} tasks/s ` +
      `(${finished.length} of queue ${task.queue} finished in the last ${
        Math.round(spanMs / 1_000)
      }s)`,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
const round = (n: number) => Math.round(n * 100) / 100;
