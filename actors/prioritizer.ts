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
 */

import { setup } from "xstate";
import type { RuntimeDeps } from "../lib/protocol/deps.ts";
import { EnqueueBurst, ReadyNotice } from "../lib/tasks/enqueue-burst.ts";
import { ValidationError } from "../lib/errors.ts";
import type { EventSink } from "../lib/events/event-outlet.ts";
import { type EventInit, newId } from "../lib/events/cloud-event.ts";
import { taskFields } from "../lib/log.ts";
import type { RuntimeMessage, TaskRequest } from "../lib/protocol/messages.ts";
import { scoreTask } from "../lib/tasks/priority.ts";
import type { EnqueueResult, TypeStats } from "../lib/store/types.ts";
import { kindOfState, taskEvent, transitionEvents } from "../lib/tasks/task-events.ts";
import type { NewTask, Task } from "../lib/tasks/task.ts";

/** Input of the prioritizer. */
export interface PrioritizerInput {
  deps: RuntimeDeps;
  /** Where its `task.*` events go (lib/events/event-outlet.ts). */
  events: EventSink;
}

/** Messages the prioritizer understands. */
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
  | { type: "rescore" };

/** Learned stats are re-read at most this often per type. */
const STATS_TTL_MS = 5_000;

interface PrioritizerContext {
  deps: RuntimeDeps;
  events: EventSink;
  stats: Map<string, { stats: TypeStats | null; at: number }>;
  ready: ReadyNotice;
  /** Enqueues gathered for one write; flushed before any other message is handled. */
  burst: EnqueueBurst;
}

type Send = (m: RuntimeMessage) => void;

function statsFor(context: PrioritizerContext, type: string): TypeStats | null {
  const { deps, stats } = context;
  const cached = stats.get(type);
  const now = deps.now();
  if (!cached || now - cached.at > STATS_TTL_MS) {
    // Refresh in the background; scoring never waits for it.
    stats.set(type, { stats: cached?.stats ?? null, at: now });
    deps.store.typeStats(type).then(
      (s) => stats.set(type, { stats: s, at: deps.now() }),
      () => {},
    );
  }
  return cached?.stats ?? null;
}

/** Applies defaults and scores a request. */
function buildTask(context: PrioritizerContext, request: TaskRequest): NewTask {
  const { deps } = context;
  const now = deps.now();
  const workers = deps.config.workers;
  const priority = request.priority ?? 5;
  const runAt = request.runAt ?? (request.delayMs ? now + request.delayMs : null);
  const deadline = request.deadline ?? null;
  const scored = scoreTask(
    { priority, enqueuedAt: now, deadline, stats: statsFor(context, request.type), now },
    deps.config.prioritizer,
  );
  return {
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
}

function announce(context: PrioritizerContext, results: EnqueueResult[]): void {
  let ready = 0;
  const inits: EventInit[] = [];
  for (const { task, deduplicated } of results) {
    if (deduplicated) continue;
    inits.push(taskEvent(kindOfState(task), task, { state: task.state }));
    if (task.state === "queued") ready++;
  }
  context.events.emitMany(inits);
  context.ready.add(ready);
}

async function rescoreNearDeadline(context: PrioritizerContext): Promise<number> {
  const { deps } = context;
  const now = deps.now();
  const tasks = await deps.store.tasksNearDeadline(
    now + deps.config.prioritizer.deadlineWindowMs,
    500,
  );
  let changed = 0;
  for (const task of tasks) {
    const scored = scoreTask(
      {
        priority: task.priority,
        enqueuedAt: task.enqueuedAt,
        deadline: task.deadline,
        stats: statsFor(context, task.type),
        now,
      },
      deps.config.prioritizer,
    );
    if (scored.sortKey < task.sortKey) {
      await deps.store.reprioritize(task.id, task.priority, scored.sortKey, scored.explanation)
        .catch(() => {}); // it started meanwhile: nothing to re-score
      changed++;
    }
  }
  return changed;
}

async function reprioritize(
  context: PrioritizerContext,
  id: string,
  priority: number,
): Promise<Task> {
  const { deps } = context;
  if (!Number.isInteger(priority) || priority < 0 || priority > 9) {
    throw new ValidationError(`priority must be an integer 0..9, got ${JSON.stringify(priority)}`, {
      field: "priority",
      value: priority,
    });
  }
  const task = await deps.store.getTask(id);
  const base = task?.enqueuedAt ?? deps.now();
  const scored = scoreTask(
    {
      priority,
      enqueuedAt: base,
      deadline: task?.deadline ?? null,
      stats: task ? statsFor(context, task.type) : null,
      now: deps.now(),
    },
    deps.config.prioritizer,
  );
  return deps.store.reprioritize(id, priority, scored.sortKey, scored.explanation);
}

/**
 * The prioritizer actor logic.
 *
 * @example
 * ```ts
 * spawnChild(prioritizerMachine, { id: "prioritizer", input: { deps, events } });
 * ```
 */
export const prioritizerMachine = setup({
  types: {
    context: {} as PrioritizerContext,
    input: {} as PrioritizerInput,
    events: {} as PrioritizerEvent,
  },
  delays: {
    rescoreEvery: ({ context }) =>
      Math.min(10_000, Math.max(250, context.deps.config.prioritizer.deadlineWindowMs / 10)),
  },
}).createMachine({
  id: "prioritizer",
  context: ({ input, self }) => {
    const context: PrioritizerContext = {
      deps: input.deps,
      events: input.events,
      stats: new Map(),
      ready: new ReadyNotice((count) =>
        self.system.get("supervisor")?.send({ type: "task.ready", count })
      ),
      burst: new EnqueueBurst(
        input.deps.store,
        input.deps.now,
        (results) => announce(context, results),
      ),
    };
    return context;
  },
  initial: "active",
  states: {
    active: {
      after: {
        rescoreEvery: {
          target: "active",
          reenter: true,
          actions: ({ self }) => self.send({ type: "rescore" }),
        },
      },
    },
  },
  on: {
    "task.enqueue": {
      actions: ({ context, event }) => {
        let task: NewTask;
        try {
          task = buildTask(context, event.request);
        } catch (err) {
          event.reply?.reject(err);
          return;
        }
        context.burst.add({
          task,
          done: (result) => event.reply?.resolve(result),
          failed: (err) => {
            if (!event.reply) {
              context.deps.log.warn("enqueue failed", { ...taskFields(task), error: err });
            }
            event.reply?.reject(err);
          },
        });
      },
    },
    // Every other message comes after the enqueues gathered before it.
    "task.enqueueMany": {
      actions: ({ context, event }) => {
        context.burst.flush();
        let tasks: NewTask[];
        try {
          tasks = event.requests.map((r) => buildTask(context, r));
        } catch (err) {
          event.reply?.reject(err);
          return;
        }
        context.deps.store.enqueueMany(tasks, context.deps.now()).then((results) => {
          announce(context, results);
          event.reply?.resolve(results);
        }, (err) => event.reply?.reject(err));
      },
    },
    "task.reprioritize": {
      actions: ({ context, event }) => {
        context.burst.flush();
        reprioritize(context, event.id, event.priority).then(
          (task) => event.reply?.resolve(task),
          (err) => event.reply?.reject(err),
        );
      },
    },
    "task.retry": {
      actions: ({ context, event }) => {
        context.burst.flush();
        context.deps.store.retry(event.id, context.deps.now()).then((task) => {
          announce(context, [{ task, deduplicated: false }]);
          event.reply?.resolve(task);
        }, (err) => event.reply?.reject(err));
      },
    },
    "task.cancel": {
      actions: ({ context, event }) => {
        context.burst.flush();
        const { deps } = context;
        // The task.cancelled event reaches the pool (here, or elsewhere through the
        // bridge), which aborts a worker running it.
        deps.store.cancel(event.id, deps.now()).then(({ task, dependents }) => {
          context.events.emitMany([
            taskEvent("cancelled", task),
            ...transitionEvents(dependents, `dependency ${task.id} cancelled`),
          ]);
          event.reply?.resolve(task);
        }, (err) => event.reply?.reject(err));
      },
    },
    rescore: {
      actions: ({ context }) => {
        context.burst.flush();
        rescoreNearDeadline(context).catch((err) =>
          context.deps.log.warn("deadline re-scoring failed", { error: err })
        );
      },
    },
    "debug.crash": {
      actions: () => {
        throw new Error("fault injected into prioritizer");
      },
    },
  },
});
