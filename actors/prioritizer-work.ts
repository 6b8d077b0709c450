/**
 * The prioritizer's store work: one callback child (`store`) that runs every
 * write the prioritizer asks for, in the order asked, and sends each outcome
 * back to it as an event (`done.*`, `failed.*`); the prioritizer announces
 * the change and answers the asker. Enqueues sent together are stored with
 * one write (lib/tasks/enqueue-burst.ts) and come back as one `done.enqueue`;
 * anything else waits until the enqueues gathered before it are written.
 *
 * Scoring reads the learned statistics per task type from a copy the
 * prioritizer hands over (it never changes a map it handed out), and asks
 * for a fresh read of those it found missing or stale (`stats.wanted`).
 */

import { fromCallback } from "xstate";
import type { RuntimeDeps } from "../lib/protocol/deps.ts";
import type { AskType, ReplyTo } from "../lib/protocol/messages.ts";
import { EnqueueBurst } from "../lib/tasks/enqueue-burst.ts";
import { boundsFor, dropsWhenFull } from "../lib/tasks/queue-bounds.ts";
import { QueueFullError } from "../lib/errors.ts";
import { type ScoreInput, scoreTask } from "../lib/tasks/priority.ts";
import { FLEET_KEY, statsKey } from "../lib/tasks/learn/model.ts";
import type { EnqueueResult, FinishResult, TaskStore, TypeStats } from "../lib/store/types.ts";
import type { NewTask, Task } from "../lib/tasks/task.ts";
import { keyWithRules } from "../lib/tasks/score-rules.ts";

/** Learned stats are re-read at most this often per type. */
const STATS_TTL_MS = 5_000;

/** The learned statistics per task type (or `scoreBy` key, and the fleet's), and when each was read (epoch ms). */
export type StatsCache = ReadonlyMap<string, { stats: TypeStats | null; at: number }>;

/**
 * The cached statistics of a type (null when unknown).
 */
export function statsOf(cache: StatsCache, type: string): TypeStats | null {
  return cache.get(type)?.stats ?? null;
}

/** The statistics keys scoring a task reads: its type (or `scoreBy` key) and the fleet's. */
export function keysOf(scoreBy: string | undefined, task: { type: string; payload: unknown }) {
  return [statsKey(scoreBy, task), FLEET_KEY];
}

/** The learned part of a task's {@link ScoreInput}, from the cache. */
export function learnedInput(
  cache: StatsCache,
  scoreBy: string | undefined,
  task: { type: string; payload: unknown },
): Pick<ScoreInput, "stats" | "pooled" | "key"> {
  const key = statsKey(scoreBy, task);
  return { key, stats: statsOf(cache, key), pooled: statsOf(cache, FLEET_KEY) };
}

/**
 * True when a type's statistics are missing or older than the TTL.
 */
export function isStale(cache: StatsCache, type: string, now: number): boolean {
  const cached = cache.get(type);
  return !cached || now - cached.at > STATS_TTL_MS;
}

/** What the prioritizer asks its store child to do. */
export type StoreCommand =
  | { type: "enqueue"; task: NewTask; replyTo?: ReplyTo<"task.enqueue"> }
  | {
    type: "enqueueMany";
    tasks: NewTask[];
    /** Hook-made: past a full queue's bound, each task is tried alone and refusals are reported. */
    hooked?: boolean;
    /** The tasks start their batch (EnqueueOptions.newBatch). */
    newBatch?: boolean;
    replyTo?: ReplyTo<"task.enqueueMany">;
  }
  | { type: "retry"; id: string; replyTo?: ReplyTo<"task.retry"> }
  | { type: "cancel"; id: string; replyTo?: ReplyTo<"task.cancel"> }
  | {
    type: "reprioritize";
    id: string;
    priority: number;
    stats: StatsCache;
    replyTo?: ReplyTo<"task.reprioritize">;
  }
  | { type: "rescore"; stats: StatsCache }
  | { type: "stats.load"; taskType: string };

/** What comes back: each outcome, with the ask it answers. */
export type StoreOutcome =
  /** One write of gathered enqueues (or several that ended together), in order. */
  | {
    type: "done.enqueue";
    results: EnqueueResult[];
    asks: (ReplyTo<"task.enqueue"> | undefined)[];
  }
  | { type: "failed.enqueue"; task: NewTask; error: unknown; replyTo?: ReplyTo<"task.enqueue"> }
  | {
    type: "done.enqueueMany";
    results: EnqueueResult[];
    /** Hook-made tasks their full queue refused. */
    rejected?: Rejected[];
    replyTo?: ReplyTo<"task.enqueueMany">;
  }
  | { type: "done.retry"; task: Task; replyTo?: ReplyTo<"task.retry"> }
  | {
    type: "done.cancel";
    task: Task;
    dependents: FinishResult["dependents"];
    replyTo?: ReplyTo<"task.cancel">;
  }
  | { type: "done.reprioritize"; task: Task; replyTo?: ReplyTo<"task.reprioritize"> }
  /** A write other than an enqueue failed. */
  | { type: "failed"; error: unknown; replyTo?: ReplyTo<AskType> }
  | { type: "failed.rescore"; error: unknown }
  | { type: "stats.loaded"; taskType: string; stats: TypeStats | null }
  /** Types scoring found without fresh statistics. */
  | { type: "stats.wanted"; taskTypes: string[] };

/** A hook-made task its full queue refused. */
export interface Rejected {
  task: NewTask;
  error: QueueFullError;
}

/**
 * A hook-made batch a full queue refused, tried one task at a time in order:
 * what fits is stored, what does not is reported (the `reject` policy).
 */
async function enqueueEach(
  store: Pick<TaskStore, "enqueue">,
  tasks: readonly NewTask[],
  now: () => number,
): Promise<{ results: EnqueueResult[]; rejected: Rejected[] }> {
  const results: EnqueueResult[] = [];
  const rejected: Rejected[] = [];
  for (const task of tasks) {
    try {
      results.push(await store.enqueue(task, now()));
    } catch (error) {
      if (!(error instanceof QueueFullError)) throw error;
      rejected.push({ task, error });
    }
  }
  return { results, rejected };
}

/** Re-scores the tasks whose deadline nears; resolves with the types it had no fresh stats of. */
async function rescoreNearDeadline(
  deps: RuntimeDeps<TaskStore>,
  cache: StatsCache,
): Promise<string[]> {
  const now = deps.now();
  const tasks = await deps.store.tasksNearDeadline(
    now + deps.config.prioritizer.deadlineWindowMs,
    500,
  );
  const wanted = new Set<string>();
  const { scoreBy } = deps.config.prioritizer;
  for (const task of tasks) {
    for (const key of keysOf(scoreBy, task)) if (isStale(cache, key, now)) wanted.add(key);
    const scored = scoreTask(
      {
        priority: task.priority,
        enqueuedAt: task.enqueuedAt,
        deadline: task.deadline,
        ...learnedInput(cache, scoreBy, task),
        now,
      },
      deps.config.prioritizer,
    );
    if (scored.sortKey < task.sortKey) {
      await deps.store.reprioritize(
        task.id,
        task.priority,
        ...keyWithRules(deps.config.prioritizer, task, scored),
      )
        .catch(() => {}); // it started meanwhile: nothing to re-score
    }
  }
  return [...wanted];
}

/** Gives a task a new priority, scored with the cached stats of its type. */
async function reprioritize(
  deps: RuntimeDeps<TaskStore>,
  command: Extract<StoreCommand, { type: "reprioritize" }>,
): Promise<{ task: Task; stale: string[] }> {
  const { id, priority, stats } = command;
  const task = await deps.store.getTask(id);
  const now = deps.now();
  const { scoreBy } = deps.config.prioritizer;
  const scored = scoreTask(
    {
      priority,
      enqueuedAt: task?.enqueuedAt ?? now,
      deadline: task?.deadline ?? null,
      ...(task ? learnedInput(stats, scoreBy, task) : { stats: null }),
      now,
    },
    deps.config.prioritizer,
  );
  const changed = await deps.store.reprioritize(
    id,
    priority,
    ...keyWithRules(deps.config.prioritizer, task && { ...task, priority }, scored),
  );
  const stale = task ? keysOf(scoreBy, task).filter((key) => isStale(stats, key, now)) : [];
  return { task: changed, stale };
}

/**
 * The store child of the prioritizer. Its outcomes stop once it is stopped
 * (a crashed or stopped prioritizer hears nothing more).
 */
export const prioritizerStore = fromCallback<StoreCommand, { deps: RuntimeDeps<TaskStore> }>(
  ({ input, receive, sendBack }) => {
    const { deps } = input;
    const { store } = deps;
    let stopped = false;
    const back = (outcome: StoreOutcome) => {
      if (!stopped) sendBack(outcome);
    };
    // The enqueues a write stored, gathered until the write's callbacks have
    // all run (one microtask), then sent back as one event.
    let stored: { results: EnqueueResult[]; asks: (ReplyTo<"task.enqueue"> | undefined)[] } | null =
      null;
    const storedOne = (result: EnqueueResult, replyTo: ReplyTo<"task.enqueue"> | undefined) => {
      if (stored === null) {
        stored = { results: [], asks: [] };
        queueMicrotask(() => {
          const done = stored!;
          stored = null;
          back({ type: "done.enqueue", ...done });
        });
      }
      stored.results.push(result);
      stored.asks.push(replyTo);
    };
    // Every enqueue passes the bounds of its tasks' queues (checked by the store);
    // a hook-made one also their drop policies.
    const queues = deps.config.queues;
    const boundedBy = (hooked: boolean): Pick<TaskStore, "enqueue" | "enqueueMany"> => ({
      enqueue: (task, now) => store.enqueue(task, now, boundsFor(queues, [task], hooked)),
      enqueueMany: (tasks, now, options) =>
        store.enqueueMany(tasks, now, { ...boundsFor(queues, tasks, hooked), ...options }),
    });
    const bounded = boundedBy(false);
    const dropping = boundedBy(true);
    // Announced from `done.enqueue` instead, with the answers. Hook-made tasks
    // of a queue with a drop policy gather apart (their batch may drop, an
    // asked one's must not); switching flushes the other, so order holds.
    const burst = new EnqueueBurst(bounded, deps.now, () => {});
    const dropBurst = new EnqueueBurst(dropping, deps.now, () => {});
    const failed = (replyTo?: ReplyTo<AskType>) => (error: unknown) =>
      back({ type: "failed", error, replyTo });

    receive((command) => {
      if (command.type === "enqueue") {
        const { task, replyTo } = command;
        const drops = replyTo === undefined && dropsWhenFull(queues, task.queue);
        (drops ? burst : dropBurst).flush();
        (drops ? dropBurst : burst).add({
          task,
          done: (result) => storedOne(result, replyTo),
          failed: (error) => back({ type: "failed.enqueue", task, error, replyTo }),
        });
        return;
      }
      burst.flush();
      dropBurst.flush();
      switch (command.type) {
        case "enqueueMany": {
          const { replyTo, hooked, tasks, newBatch } = command;
          const target = hooked ? dropping : bounded;
          target.enqueueMany(tasks, deps.now(), newBatch ? { newBatch } : undefined).then(
            (results) => back({ type: "done.enqueueMany", results, replyTo }),
            (error) => {
              if (!hooked || !(error instanceof QueueFullError)) return failed(replyTo)(error);
              enqueueEach(dropping, tasks, deps.now).then(
                ({ results, rejected }) =>
                  back({ type: "done.enqueueMany", results, rejected, replyTo }),
                failed(replyTo),
              );
            },
          );
          break;
        }
        case "retry": {
          const { replyTo } = command;
          store.retry(command.id, deps.now()).then(
            (task) => back({ type: "done.retry", task, replyTo }),
            failed(replyTo),
          );
          break;
        }
        case "cancel": {
          const { replyTo } = command;
          store.cancel(command.id, deps.now()).then(
            ({ task, dependents }) => back({ type: "done.cancel", task, dependents, replyTo }),
            failed(replyTo),
          );
          break;
        }
        case "reprioritize": {
          const { replyTo } = command;
          reprioritize(deps, command).then(({ task, stale }) => {
            back({ type: "done.reprioritize", task, replyTo });
            if (stale.length) back({ type: "stats.wanted", taskTypes: stale });
          }, failed(replyTo));
          break;
        }
        case "rescore":
          rescoreNearDeadline(deps, command.stats).then(
            (wanted) => wanted.length && back({ type: "stats.wanted", taskTypes: wanted }),
            (error) => back({ type: "failed.rescore", error }),
          );
          break;
        case "stats.load": {
          const { taskType } = command;
          // Scoring never waits for it; a failed read is tried again after the TTL.
          store.typeStats(taskType).then(
            (stats) => back({ type: "stats.loaded", taskType, stats }),
            () => {},
          );
          break;
        }
      }
    });
    return () => {
      stopped = true;
    };
  },
);
