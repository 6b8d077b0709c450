/**
 * The scheduler: the runtime's clock. Each tick it moves due delayed and
 * retrying tasks to the queue, puts back tasks whose lease ran out (stalled
 * workers), expires tasks past `expiresAt`, fires cron schedules (once per tick
 * across every process sharing the store) and, less often, trims the store.
 * It sleeps until the next due task or `tickMs`, whichever is sooner.
 */

import { Cron } from "croner";
import { assign, fromPromise, setup } from "xstate";
import type { ScheduleSpec } from "../lib/config.ts";
import type { RuntimeDeps } from "../lib/deps.ts";
import type { Json } from "../lib/events.ts";
import type { RuntimeMessage } from "../lib/messages.ts";
import { transitionEvents } from "../lib/task-events.ts";

/** Input of the scheduler. */
export interface SchedulerInput {
  deps: RuntimeDeps;
}

/** Messages the scheduler understands. */
export type SchedulerEvent = { type: "scheduler.wake" } | { type: "debug.crash" };

interface CronEntry {
  spec: ScheduleSpec;
  cron: Cron;
  next: number | null;
}

interface SchedulerContext {
  deps: RuntimeDeps;
  crons: CronEntry[];
  nextCleanupAt: number;
  delayMs: number;
}

type Send = (m: RuntimeMessage) => void;

function makeCrons(deps: RuntimeDeps): CronEntry[] {
  return deps.config.scheduler.schedules.map((spec) => {
    const cron = new Cron(spec.cron, { paused: true, timezone: spec.timezone });
    return { spec, cron, next: cron.nextRun()?.getTime() ?? null };
  });
}

/** One tick's work; resolves with how long to sleep. */
async function tick(context: SchedulerContext, send: Send): Promise<number> {
  const { deps } = context;
  const { store, log } = deps;
  const now = deps.now();
  const emitAll = (inits: ReturnType<typeof transitionEvents>) =>
    inits.forEach((init) => send({ type: "event.emit", init }));

  const due = await store.promoteDue(now);
  if (due.length) {
    emitAll(transitionEvents(due, "due"));
    send({ type: "task.ready", count: due.length });
  }
  const stalled = await store.recoverStalled(now);
  if (stalled.length) {
    log.warn("stalled tasks put back (lease expired)", { count: stalled.length });
    emitAll(transitionEvents(stalled, "stalled"));
    send({ type: "task.ready", count: stalled.length });
  }
  const expired = await store.expireDue(now);
  if (expired.length) emitAll(transitionEvents(expired, "expiresAt passed"));

  for (const entry of context.crons) {
    if (entry.next === null || entry.next > now) continue;
    const tickAt = entry.next;
    entry.next = entry.cron.nextRun(new Date(now))?.getTime() ?? null;
    if (!(await store.claimTick(`schedule:${entry.spec.id}`, tickAt))) continue;
    send({
      type: "task.enqueue",
      request: {
        type: entry.spec.task,
        payload: { ...entry.spec.payload, schedule: entry.spec.id, tick: tickAt } as Json,
        queue: entry.spec.queue,
        priority: entry.spec.priority,
        correlationId: `schedule:${entry.spec.id}:${tickAt}`,
      },
    });
    send({
      type: "event.emit",
      init: {
        type: "schedule.fired",
        source: "/un/scheduler",
        subject: entry.spec.id,
        data: { schedule: entry.spec.id, tick: tickAt, task: entry.spec.task },
      },
    });
  }

  if (now >= context.nextCleanupAt) {
    context.nextCleanupAt = now + deps.config.scheduler.cleanupMs;
    const r = deps.config.retention;
    const e = deps.config.events;
    const trimmed = await store.trim({
      maxFinishedTasks: r.maxFinishedTasks,
      finishedTaskMaxAgeMs: r.finishedTaskMaxAgeMs,
      resultTtlMs: r.resultTtlMs,
      maxEvents: e.maxCount,
      eventMaxAgeMs: e.maxAgeMs,
    }, now);
    if (trimmed.tasks || trimmed.events || trimmed.results) log.info("retention clean-up", trimmed);
  }

  const tickMs = deps.config.scheduler.tickMs;
  const nextDue = await store.nextDueAt();
  const cronNext = Math.min(...context.crons.map((c) => c.next ?? Infinity));
  const wakeAt = Math.min(nextDue ?? Infinity, cronNext);
  return Math.max(5, Math.min(tickMs, wakeAt - deps.now()));
}

/**
 * The scheduler actor logic.
 *
 * @example
 * ```ts
 * spawnChild(schedulerMachine, { id: "scheduler", input: { deps } });
 * ```
 */
export const schedulerMachine = setup({
  types: {
    context: {} as SchedulerContext,
    input: {} as SchedulerInput,
    events: {} as SchedulerEvent,
  },
  actors: {
    tick: fromPromise<number, { context: SchedulerContext }>(({ input, system }) =>
      tick(input.context, (m) => system.get("supervisor")?.send(m))
    ),
  },
  delays: { sleep: ({ context }) => context.delayMs },
}).createMachine({
  id: "scheduler",
  context: ({ input }) => ({
    deps: input.deps,
    crons: makeCrons(input.deps),
    nextCleanupAt: input.deps.now() + input.deps.config.scheduler.cleanupMs,
    delayMs: input.deps.config.scheduler.tickMs,
  }),
  initial: "ticking",
  on: {
    "debug.crash": {
      actions: () => {
        throw new Error("fault injected into scheduler");
      },
    },
  },
  states: {
    ticking: {
      invoke: {
        src: "tick",
        input: ({ context }) => ({ context }),
        onDone: { target: "sleeping", actions: assign({ delayMs: ({ event }) => event.output }) },
        onError: {
          target: "sleeping",
          actions: [
            ({ context, event }) =>
              context.deps.log.warn("scheduler tick failed", { error: event.error }),
            assign({ delayMs: ({ context }) => context.deps.config.scheduler.tickMs }),
          ],
        },
      },
    },
    sleeping: {
      after: { sleep: "ticking" },
      on: { "scheduler.wake": "ticking" },
    },
  },
});
