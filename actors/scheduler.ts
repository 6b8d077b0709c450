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
 * so a tick is lost only when every scheduler missed it for that long. Older
 * ones, and those of a downtime (found from each schedule's last run when the
 * scheduler starts), fire as the schedule's `catchUp` policy says.
 *
 * The schedules in effect (the config file's and those added through
 * `/un/schedules`, lib/schedules/manage.ts) are read from the store every
 * tick, so a change in any process applies within one tick. Each fire is
 * recorded as the schedule's last run, with its task's id once it has one.
 *
 * What it announces (tasks due, stalled or expired, schedules fired) goes to
 * the event outlet; the pool and the prioritizer hear from it through the
 * supervisor.
 */

import { assign, fromPromise, setup } from "xstate";
import type { RuntimeDeps } from "../lib/protocol/deps.ts";
import type { Coordination, ScheduleStore, StoreLifecycle, TaskStore } from "../lib/store/types.ts";
import type { EventSink } from "../lib/events/event-outlet.ts";
import { type FailureLog, failureLog } from "../lib/log.ts";
import type { Json } from "../lib/events/cloud-event.ts";
import type { EnqueueResult } from "../lib/store/types.ts";
import type { RuntimeMessage, TaskRequest } from "../lib/protocol/messages.ts";
import { ask } from "../lib/protocol/ask.ts";
import { transitionEvents } from "../lib/tasks/task-events.ts";
import { batchCompleted } from "../lib/tasks/batch-watch.ts";
import { listActive } from "../lib/schedules/manage.ts";
import { dueOccurrences, type PlannedSchedule, planSchedules } from "../lib/schedules/plan.ts";

export { occurrences } from "../lib/schedules/occurrences.ts";

/** Open batches the clean-up looks at each time, oldest first. */
const OPEN_BATCHES_PER_CLEANUP = 1_000;

/** The store as the scheduler uses it. */
type SchedulerStore = TaskStore & ScheduleStore & Coordination & StoreLifecycle;

/** Input of the scheduler. */
export interface SchedulerInput {
  deps: RuntimeDeps<SchedulerStore>;
  /** Where its events go (lib/events/event-outlet.ts). */
  events: EventSink;
}

/** Messages the scheduler understands. */
export type SchedulerEvent = { type: "scheduler.wake" } | { type: "debug.crash" };

/**
 * How late a missed occurrence may still fire; older ones are skipped.
 */
export const CATCH_UP_MS = 60_000;

/** How long the scheduler waits for a fired task's id (for the schedule's last run). */
const ENQUEUE_ANSWER_MS = 30_000;

/**
 * The tick works on its input and returns what changed (`TickOutput`); the
 * machine assigns it, so no entry or field is changed in place.
 */
interface SchedulerContext {
  deps: RuntimeDeps<SchedulerStore>;
  events: EventSink;
  /** The running schedules and their next occurrences. */
  schedules: readonly PlannedSchedule[];
  /** Set once the schedules were first read: a downtime's missed occurrences are found then. */
  loaded: boolean;
  /** When this scheduler started: occurrences before it were missed (downtime). */
  startedAt: number;
  nextCleanupAt: number;
  delayMs: number;
  /** A store outage fails every tick: said once, and once when it is over. */
  failures: FailureLog;
}

/** What one tick changed: the schedules and their next occurrences, the next clean-up, and the sleep. */
interface TickOutput {
  schedules: PlannedSchedule[];
  loaded: boolean;
  nextCleanupAt: number;
  delayMs: number;
  /** The tick stopped here (store unreachable); what it did before that is kept. */
  error?: unknown;
}

/** How a tick reaches the supervisor. */
interface Outbox {
  send(m: RuntimeMessage): void;
  /** Enqueues through the prioritizer; resolves with the result once it answers. */
  enqueue(request: TaskRequest): Promise<EnqueueResult>;
}

/** Reads the schedules in effect and plans them (the first time, with their last runs). */
async function loadPlan(context: SchedulerContext, out: TickOutput, now: number): Promise<void> {
  const { store, config } = context.deps;
  const active = await listActive(store, config.scheduler.schedules);
  const runs = out.loaded ? null : await store.scheduleRuns();
  out.schedules = planSchedules(out.schedules, active, runs, context.startedAt, CATCH_UP_MS, now);
  out.loaded = true;
}

/**
 * Claims and fires every due occurrence of a schedule (once across
 * processes), recording each as its last run; `planned.next` moves on once
 * all are claimed.
 */
async function fireDue(
  planned: PlannedSchedule,
  now: number,
  context: SchedulerContext,
  outbox: Outbox,
): Promise<void> {
  const { store } = context.deps;
  const { spec } = planned;
  const due = dueOccurrences(planned, now, context.startedAt, CATCH_UP_MS);
  for (const { tick: tickAt, catchUp } of due.fire) {
    // The store calls come before moving `next` on: if one throws (store
    // unreachable), the occurrences are claimed on a later tick instead of
    // lost, and the ones this tick won are not won again.
    if (!await store.claimTick(`schedule:${spec.id}`, tickAt)) continue;
    const enqueued = outbox.enqueue({
      type: spec.task,
      payload: { ...spec.payload, schedule: spec.id, tick: tickAt } as Json,
      queue: spec.queue,
      priority: spec.priority,
      correlationId: `schedule:${spec.id}:${tickAt}`,
    });
    const run = { tick: tickAt, at: now, by: "schedule" as const };
    await store.recordScheduleRun(spec.id, { ...run, taskId: null });
    // The task's id comes when the prioritizer answers; a failure is the task's, not the tick's.
    enqueued.then(
      (result) => store.recordScheduleRun(spec.id, { ...run, taskId: result.task.id }),
    ).catch(() => {});
    context.events.emit({
      type: "schedule.fired",
      source: "/un/scheduler",
      subject: spec.id,
      data: {
        schedule: spec.id,
        tick: tickAt,
        task: spec.task,
        lateMs: now - tickAt,
        ...(catchUp ? { catchUp: spec.catchUp } : {}),
      },
    });
  }
  planned.next = due.next;
}

/** One tick's work; never rejects: a failure ends the tick early, with what it did so far. */
async function tick(context: SchedulerContext, outbox: Outbox): Promise<TickOutput> {
  const out: TickOutput = {
    // Copies: the tick moves each one's `next` on, and the machine assigns them.
    schedules: context.schedules.map((planned) => ({ ...planned })),
    loaded: context.loaded,
    nextCleanupAt: context.nextCleanupAt,
    delayMs: context.deps.config.scheduler.tickMs,
  };
  try {
    out.delayMs = await tickSteps(context, out, outbox);
  } catch (error) {
    out.error = error;
  }
  return out;
}

/** The steps of a tick, recording progress in `out`; resolves with how long to sleep. */
async function tickSteps(
  context: SchedulerContext,
  out: TickOutput,
  outbox: Outbox,
): Promise<number> {
  const { deps } = context;
  const { store, log } = deps;
  const now = deps.now();
  const send = outbox.send;
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

  await loadPlan(context, out, now);
  for (const planned of out.schedules) await fireDue(planned, now, context, outbox);

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
    // Normally settled where its last task ended (lib/tasks/batch-watch.ts);
    // this announces one whose process stopped in between. It reads every
    // task (recount), so a live count that went wrong cannot hold a batch open.
    for (const id of await store.openBatches(OPEN_BATCHES_PER_CLEANUP)) {
      const settled = await store.settleBatch(id, now, { recount: true });
      if (settled !== null) context.events.emit(batchCompleted(settled));
    }
  }

  const tickMs = deps.config.scheduler.tickMs;
  const nextDue = await store.nextDueAt();
  const cronNext = Math.min(...out.schedules.map((planned) => planned.next ?? Infinity));
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
    tick: fromPromise<TickOutput, { context: SchedulerContext }>(({ input, system }) => {
      const send = (m: RuntimeMessage) => system.get("supervisor")?.send(m);
      return tick(input.context, {
        send,
        enqueue: (request) =>
          ask({ send }, "task.enqueue", { request }, { timeoutMs: ENQUEUE_ANSWER_MS }),
      });
    }),
  },
  delays: { sleep: ({ context }) => context.delayMs },
}).createMachine({
  id: "scheduler",
  context: ({ input }) => ({
    deps: input.deps,
    events: input.events,
    schedules: [],
    loaded: false,
    startedAt: input.deps.now(),
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
            assign(({ event }) => ({
              schedules: event.output.schedules,
              loaded: event.output.loaded,
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
