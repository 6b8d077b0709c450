/**
 * The prioritizer: admits work. It turns task requests into scored tasks (sort
 * key from priority, learned score and deadline; see lib/tasks/priority.ts),
 * enqueues, retries, re-prioritizes and cancels them, announces each change as
 * a `task.*` event, and re-scores tasks as their deadline nears.
 *
 * Its `task.*` events go straight to the event outlet (no actor needs them);
 * the pool hears of ready tasks through the supervisor, one `task.ready` per
 * burst of enqueues (a first scan, a bulk create) rather than one per task.
 * The enqueues of a burst are stored with one write (lib/tasks/enqueue-burst.ts).
 *
 * The machine decides (defaults, score, validation) and its `store` child
 * (actors/prioritizer-work.ts) writes; each write's outcome comes back as an
 * event, which the machine announces and answers the asker with.
 */

import { enqueueActions, sendTo, setup } from "xstate";
import type { RuntimeDeps } from "../lib/protocol/deps.ts";
import { ReadyNotice } from "../lib/tasks/enqueue-burst.ts";
import { QueueRejections } from "../lib/tasks/queue-bounds.ts";
import { QueueFullError } from "../lib/errors.ts";
import type { EventSink } from "../lib/events/event-outlet.ts";
import { type EventInit, newId } from "../lib/events/cloud-event.ts";
import { taskFields } from "../lib/log.ts";
import { answer, refuse } from "../lib/protocol/ask.ts";
import type { RuntimeMessage, TaskRequest } from "../lib/protocol/messages.ts";
import { scoreTask } from "../lib/tasks/priority.ts";
import { applyScoreRules } from "../lib/tasks/score-rules.ts";
import type { EnqueueResult, TaskStore } from "../lib/store/types.ts";
import { kindOfState, taskEvent, transitionEvents } from "../lib/tasks/task-events.ts";
import { checkTaskPriority, type NewTask } from "../lib/tasks/task.ts";
import {
  isStale,
  keysOf,
  learnedInput,
  prioritizerStore,
  type StatsCache,
  statsOf,
  type StoreCommand,
  type StoreOutcome,
} from "./prioritizer-work.ts";

/** Input of the prioritizer. */
export interface PrioritizerInput {
  deps: RuntimeDeps<TaskStore>;
  /** Where its `task.*` events go (lib/events/event-outlet.ts). */
  events: EventSink;
}

/** Messages the prioritizer understands, and the outcomes its store child sends back. */
export type PrioritizerEvent =
  | Extract<
    RuntimeMessage,
    {
      type:
        | "task.enqueue"
        | "task.enqueueMany"
        | "task.reprioritize"
        | "task.retry"
        | "task.cancel"
        | "debug.crash";
    }
  >
  | StoreOutcome;

interface PrioritizerContext {
  deps: RuntimeDeps<TaskStore>;
  events: EventSink;
  /**
   * Learned stats per task type: one entry per type, changed at most once per
   * type every few seconds, so each change makes a new map (`assign`), and the
   * store child may score with the one it was handed.
   */
  stats: StatsCache;
  ready: ReadyNotice;
  /** Hook-made tasks refused by a full queue: their events and rate-limited log. */
  rejections: QueueRejections;
}

/** Applies defaults and scores a request. */
function buildTask(context: PrioritizerContext, request: TaskRequest): NewTask {
  const { deps } = context;
  const now = deps.now();
  const workers = deps.config.workers;
  const priority = request.priority ?? 5;
  const runAt = request.runAt ?? (request.delayMs ? now + request.delayMs : null);
  const deadline = request.deadline ?? null;
  const learned = learnedInput(context.stats, deps.config.prioritizer.scoreBy, {
    type: request.type,
    payload: request.payload ?? null,
  });
  const scored = scoreTask(
    { priority, enqueuedAt: now, deadline, ...learned, now },
    deps.config.prioritizer,
  );
  const task: NewTask = {
    id: newId(),
    type: request.type,
    queue: request.queue ?? "default",
    payload: request.payload ?? null,
    priority,
    sortKey: scored.sortKey,
    score: scored.score,
    explanation: scored.explanation,
    maxAttempts: request.maxAttempts ?? workers.maxAttempts,
    dependsOn: request.dependsOn ?? [],
    runAt: runAt !== null && runAt > now ? runAt : null,
    deadline,
    expiresAt: request.expiresAt ?? null,
    timeoutMs: request.timeoutMs ?? null,
    key: request.key ?? null,
    resources: request.resources ?? {},
    correlationId: request.correlationId ?? null,
    createdAt: now,
  };
  if (request.parentId !== undefined) task.parentId = request.parentId;
  if (request.batchId !== undefined) task.batchId = request.batchId;
  return applyScoreRules(deps.config.prioritizer, task);
}

function announce(context: PrioritizerContext, results: EnqueueResult[]): void {
  let ready = 0;
  const inits: EventInit[] = [];
  for (const { task, deduplicated } of results) {
    if (deduplicated) continue;
    inits.push(taskEvent(kindOfState(task), task, { state: task.state }));
    if (task.state === "queued") ready++;
  }
  // Queued tasks a full queue dropped to make room (drop policies), after the tasks that took their place.
  inits.push(...context.rejections.dropped(results));
  context.events.emitMany(inits);
  context.ready.add(ready);
}

/** The store child, for a plain action to send it a command. */
function storeChild(
  self: { getSnapshot(): { children: object } },
): { send(c: StoreCommand): void } {
  return (self.getSnapshot().children as Record<string, { send(c: StoreCommand): void }>).store;
}

/** A command for the store child, type-checked (`sendTo` by id does not know the child's events). */
const toStore = (command: StoreCommand) => command;

/**
 * The prioritizer actor logic.
 */
export const prioritizerMachine = setup({
  types: {
    context: {} as PrioritizerContext,
    input: {} as PrioritizerInput,
    events: {} as PrioritizerEvent,
  },
  actors: { store: prioritizerStore },
  actions: {
    /** Reads afresh the stats of the types that have none or stale ones (marked read now, so once). */
    loadStats: enqueueActions(({ context, enqueue }, taskTypes: string[]) => {
      const now = context.deps.now();
      const stale = taskTypes.filter((type) => isStale(context.stats, type, now));
      if (stale.length === 0) return;
      const stats = new Map(context.stats);
      for (const type of stale) {
        stats.set(type, { stats: statsOf(context.stats, type), at: now });
        enqueue.sendTo("store", { type: "stats.load", taskType: type });
      }
      enqueue.assign({ stats });
    }),
  },
  delays: {
    rescoreEvery: ({ context }) =>
      Math.min(10_000, Math.max(250, context.deps.config.prioritizer.deadlineWindowMs / 10)),
  },
}).createMachine({
  id: "prioritizer",
  context: ({ input, self }) => ({
    deps: input.deps,
    events: input.events,
    stats: new Map(),
    ready: new ReadyNotice((count) =>
      self.system.get("supervisor")?.send({ type: "task.ready", count })
    ),
    rejections: new QueueRejections(input.deps.log.child("queues"), input.deps.now),
  }),
  // At the root, so the store child lives as long as the prioritizer.
  invoke: { id: "store", src: "store", input: ({ context }) => ({ deps: context.deps }) },
  initial: "active",
  states: {
    active: {
      after: {
        rescoreEvery: {
          target: "active",
          reenter: true,
          actions: sendTo(
            "store",
            ({ context }) => toStore({ type: "rescore", stats: context.stats }),
          ),
        },
      },
    },
  },
  on: {
    "task.enqueue": {
      // A plain action, not enqueueActions: one of these per task, and
      // enqueueActions' action objects cost a busy queue ~2 µs per message.
      // The stats read goes through this machine's own `stats.wanted`.
      actions: ({ context, event, self }) => {
        let task: NewTask;
        try {
          task = buildTask(context, event.request);
        } catch (err) {
          refuse(event.replyTo, err);
          return;
        }
        const keys = keysOf(context.deps.config.prioritizer.scoreBy, task);
        const now = context.deps.now();
        if (keys.some((key) => isStale(context.stats, key, now))) {
          self.send({ type: "stats.wanted", taskTypes: keys });
        }
        storeChild(self).send(toStore({ type: "enqueue", task, replyTo: event.replyTo }));
      },
    },
    "task.enqueueMany": {
      actions: enqueueActions(({ context, event, enqueue }) => {
        let tasks: NewTask[];
        try {
          tasks = event.requests.map((r) => buildTask(context, r));
        } catch (err) {
          refuse(event.replyTo, err);
          return;
        }
        const { scoreBy } = context.deps.config.prioritizer;
        enqueue({
          type: "loadStats",
          params: [...new Set(tasks.flatMap((t) => keysOf(scoreBy, t)))],
        });
        const { hooked, newBatch, replyTo } = event;
        enqueue.sendTo("store", toStore({ type: "enqueueMany", tasks, hooked, newBatch, replyTo }));
      }),
    },
    "task.reprioritize": {
      actions: enqueueActions(({ context, event, enqueue }) => {
        try {
          checkTaskPriority(event.priority);
        } catch (err) {
          refuse(event.replyTo, err);
          return;
        }
        const { id, priority, replyTo } = event;
        enqueue.sendTo(
          "store",
          toStore({ type: "reprioritize", id, priority, stats: context.stats, replyTo }),
        );
      }),
    },
    "task.retry": {
      actions: sendTo(
        "store",
        ({ event }) => toStore({ type: "retry", id: event.id, replyTo: event.replyTo }),
      ),
    },
    "task.cancel": {
      actions: sendTo(
        "store",
        ({ event }) => toStore({ type: "cancel", id: event.id, replyTo: event.replyTo }),
      ),
    },
    "done.enqueue": {
      actions: ({ context, event }) => {
        announce(context, event.results);
        event.results.forEach((result, i) => answer(event.asks[i], result));
      },
    },
    "failed.enqueue": {
      actions: ({ context, event }) => {
        // A hook-made task its full queue refused: the queue's overflow policy.
        if (event.replyTo === undefined && event.error instanceof QueueFullError) {
          context.events.emit(context.rejections.reject(event.task, event.error));
          return;
        }
        if (event.replyTo === undefined) {
          context.deps.log.warn("enqueue failed", {
            ...taskFields(event.task),
            error: event.error,
          });
        }
        refuse(event.replyTo, event.error);
      },
    },
    "done.enqueueMany": {
      actions: ({ context, event }) => {
        announce(context, event.results);
        context.events.emitMany(
          (event.rejected ?? []).map(({ task, error }) => context.rejections.reject(task, error)),
        );
        answer(event.replyTo, event.results);
      },
    },
    "done.retry": {
      actions: ({ context, event }) => {
        announce(context, [{ task: event.task, deduplicated: false }]);
        answer(event.replyTo, event.task);
      },
    },
    "done.cancel": {
      // The task.cancelled event reaches the pool (here, or elsewhere through the
      // bridge), which aborts a worker running it.
      actions: ({ context, event }) => {
        context.events.emitMany([
          taskEvent("cancelled", event.task),
          ...transitionEvents(event.dependents, `dependency ${event.task.id} cancelled`),
        ]);
        answer(event.replyTo, event.task);
      },
    },
    "done.reprioritize": {
      actions: ({ event }) => answer(event.replyTo, event.task),
    },
    failed: {
      actions: ({ event }) => refuse(event.replyTo, event.error),
    },
    "failed.rescore": {
      actions: ({ context, event }) =>
        context.deps.log.warn("deadline re-scoring failed", { error: event.error }),
    },
    "stats.loaded": {
      actions: enqueueActions(({ context, event, enqueue }) => {
        const stats = new Map(context.stats);
        stats.set(event.taskType, { stats: event.stats, at: context.deps.now() });
        enqueue.assign({ stats });
      }),
    },
    "stats.wanted": {
      actions: { type: "loadStats", params: ({ event }) => event.taskTypes },
    },
    "debug.crash": {
      actions: () => {
        throw new Error("fault injected into prioritizer");
      },
    },
  },
});
