/**
 * The scheduler: the runtime's clock. Each tick it moves due delayed and
 * retrying tasks to the queue, puts back tasks whose lease ran out (stalled
 * workers), expires tasks past `expiresAt`, fires cron and interval schedules
 * (once per tick across every process sharing the store) and, less often, trims
 * the store. It sleeps until the next due task or `tickMs`, whichever is sooner.
 *
 * Once per tick across processes: every process computes the same occurrence
 * times (cron occurrences, or multiples of `every` since the epoch) and claims
 * each with `store.claimTick(schedule, occurrence)`, which only one wins.
 * Occurrences missed while this process was paused or the store was
 * unreachable are still claimed (each once) if at most {@link CATCH_UP_MS} old,
 * so a tick is lost only when every scheduler missed it for that long.
 *
 * What it announces (tasks due, stalled or expired, schedules fired) goes to
 * the event outlet; the pool and the prioritizer hear from it through the
 * supervisor.
 */

import { Cron } from "croner";
import { assign, fromPromise, setup } from "xstate";
import type { ScheduleSpec } from "../lib/config/load.ts";
import type { RuntimeDeps } from "../lib/protocol/deps.ts";
import type { Coordination, StoreLifecycle, TaskStore } from "../lib/store/types.ts";
import type { EventSink } from "../lib/events/event-outlet.ts";
import { type FailureLog, failureLog } from "../lib/log.ts";
import type { Json } from "../lib/events/cloud-event.ts";
import type { RuntimeMessage } from "../lib/protocol/messages.ts";
import { transitionEvents } from "../lib/tasks/task-events.ts";

/** Input of the scheduler. */
export interface SchedulerInput {
  deps: RuntimeDeps<TaskStore & Coordination & StoreLifecycle>;
  /** Where its events go (lib/events/event-outlet.ts). */
  events: EventSink;
}

/** Messages the scheduler understands. */
export type SchedulerEvent = { type: "scheduler.wake" } | { type: "debug.crash" };

/**
 * How late a missed occurrence may still fire; older ones are skipped.
 */
export const CATCH_UP_MS = 60_000;

interface ScheduleEntry {
  spec: ScheduleSpec;
  /** The first occurrence strictly after `time` (epoch ms), or null when there is none. */
  after(time: number): number | null;
  /** The next occurrence not fired yet. */
  next: number | null;
}

/**
 * The tick works on its input and returns what changed (`TickOutput`); the
 * machine assigns it, so no entry or field is changed in place.
 */
interface SchedulerContext {
  deps: RuntimeDeps<TaskStore & Coordination & StoreLifecycle>;
  events: EventSink;
  schedules: readonly ScheduleEntry[];
  nextCleanupAt: number;
  delayMs: number;
  /** A store outage fails every tick: said once, and once when it is over. */
  failures: FailureLog;
}

/** What one tick changed: each schedule's next occurrence, the next clean-up, and the sleep. */
interface TickOutput {
  next: (number | null)[];
  nextCleanupAt: number;
  delayMs: number;
  /** The tick stopped here (store unreachable); what it did before that is kept. */
  error?: unknown;
}

type Send = (m: RuntimeMessage) => void;

function makeSchedules(
  deps: RuntimeDeps<TaskStore & Coordination & StoreLifecycle>,
): ScheduleEntry[] {
  const now = deps.now();
  return deps.config.scheduler.schedules.map((spec) => {
    const after = occurrences(spec);
    return { spec, after, next: after(now) };
  });
}

/**
 * The occurrence function of a schedule: pure in time, so every process
 * computes the same ticks (the claim key) for the same occurrence.
 *
 * @example
 * ```ts
 * occurrences({ ...spec, every: 1_000 })(1_500); // 2000
 * ```
 */
export function occurrences(spec: ScheduleSpec): (time: number) => number | null {
  if (spec.every !== undefined) {
    const every = spec.every;
    return (time) => (Math.floor(time / every) + 1) * every;
  }
  const cron = new Cron(spec.cron ?? "", { paused: true, timezone: spec.timezone });
  return (time) => cron.nextRun(new Date(time))?.getTime() ?? null;
}

/**
 * Claims and fires every due occurrence of a schedule (once across processes);
 * `next[i]` moves on past each one claimed.
 */
async function fireDue(
  entry: ScheduleEntry,
  next: (number | null)[],
  i: number,
  now: number,
  context: SchedulerContext,
  send: Send,
) {
  const { deps } = context;
  while (next[i] !== null && next[i]! <= now) {
    const tickAt = next[i]!;
    // The store call comes before moving `next` on: if it throws (store
    // unreachable), the occurrence is claimed on a later tick instead of lost.
    const won = now - tickAt <= CATCH_UP_MS &&
      await deps.store.claimTick(`schedule:${entry.spec.id}`, tickAt);
    next[i] = entry.after(tickAt);
    if (!won) continue;
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
    context.events.emit({
      type: "schedule.fired",
      source: "/un/scheduler",
      subject: entry.spec.id,
      data: { schedule: entry.spec.id, tick: tickAt, task: entry.spec.task, lateMs: now - tickAt },
    });
  }
}

/** One tick's work; never rejects: a failure ends the tick early, with what it did so far. */
async function tick(context: SchedulerContext, send: Send): Promise<TickOutput> {
  const out: TickOutput = {
    next: context.schedules.map((entry) => entry.next),
    nextCleanupAt: context.nextCleanupAt,
    delayMs: context.deps.config.scheduler.tickMs,
  };
  try {
    out.delayMs = await tickSteps(context, out, send);
  } catch (error) {
    out.error = error;
  }
  return out;
}

/** The steps of a tick, recording progress in `out`; resolves with how long to sleep. */
async function tickSteps(context: SchedulerContext, out: TickOutput, send: Send): Promise<number> {
  const { deps } = context;
  const { store, log } = deps;
  const now = deps.now();
  const emitAll = (inits: ReturnType<typeof transitionEvents>) => context.events.emitMany(inits);

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

  for (const [i, entry] of context.schedules.entries()) {
    await fireDue(entry, out.next, i, now, context, send);
  }

  if (now >= out.nextCleanupAt) {
    out.nextCleanupAt = now + deps.config.scheduler.cleanupMs;
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
  const cronNext = Math.min(...out.next.map((next) => next ?? Infinity));
  const wakeAt = Math.min(nextDue ?? Infinity, cronNext);
  return Math.max(5, Math.min(tickMs, wakeAt - deps.now()));
}

/**
 * The scheduler actor logic.
 */
export const schedulerMachine = setup({
  types: {
    context: {} as SchedulerContext,
    input: {} as SchedulerInput,
    events: {} as SchedulerEvent,
  },
  actors: {
    tick: fromPromise<TickOutput, { context: SchedulerContext }>(({ input, system }) =>
      tick(input.context, (m) => system.get("supervisor")?.send(m))
    ),
  },
  delays: { sleep: ({ context }) => context.delayMs },
}).createMachine({
  id: "scheduler",
  context: ({ input }) => ({
    deps: input.deps,
    events: input.events,
    schedules: makeSchedules(input.deps),
    nextCleanupAt: input.deps.now() + input.deps.config.scheduler.cleanupMs,
    delayMs: input.deps.config.scheduler.tickMs,
    failures: failureLog(input.deps.log, "scheduler tick"),
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
        onDone: {
          target: "sleeping",
          actions: [
            ({ context, event }) =>
              event.output.error === undefined
                ? context.failures.ok()
                : context.failures.failed(event.output.error),
            assign(({ context, event }) => ({
              schedules: context.schedules.map((entry, i) => ({
                ...entry,
                next: event.output.next[i],
              })),
              nextCleanupAt: event.output.nextCleanupAt,
              delayMs: event.output.delayMs,
            })),
          ],
        },
        onError: {
          target: "sleeping",
          actions: [
            ({ context, event }) => context.failures.failed(event.error),
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
