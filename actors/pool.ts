/**
 * The worker pool: spawns `concurrency` workers, wakes idle ones when tasks
 * become ready, scales at run time, aborts cancelled tasks, and drains at
 * shutdown. It supervises its workers one-for-one (a crashed worker is
 * replaced; the task it held comes back through the lease reaper). A drain is
 * its `draining` state: the workers retire, and an invoked promise
 * (actors/pool-drain.ts) waits for their tasks. Its resources
 * (`workers.resources`) are a ledger its workers share: their claims take
 * what is free, their tasks hold it until their attempt ends. Its workers'
 * `task.*` events go straight to the event outlet: no actor needs them. Its
 * load guard (`workers.maxLoad`, `workers.minFreeMemoryMb`; lib/tasks/load-guard.ts)
 * is read by a child every second: while the machine is overloaded the
 * workers are held as by a pause, and `worker.throttled`/`worker.resumed` say so.
 */

import { assign, enqueueActions, setup } from "xstate";
import type { RuntimeDeps } from "../lib/protocol/deps.ts";
import type { TaskStore } from "../lib/store/types.ts";
import { answer, refuse } from "../lib/protocol/ask.ts";
import type { PoolInfo, ReplyTo, RuntimeMessage, WorkerInfo } from "../lib/protocol/messages.ts";
import { stopDescendants } from "../lib/protocol/xstate-internals.ts";
import type { EventSink } from "../lib/events/event-outlet.ts";
import { ResourceLedger } from "../lib/tasks/resources.ts";
import {
  type LoadGuard,
  loadGuardOf,
  systemLoadReading,
  type Throttle,
} from "../lib/tasks/load-guard.ts";
import { type WorkerInput, workerMachine } from "./worker.ts";
import { drain, type WorkerRef, workersOf } from "./pool-drain.ts";
import { announceLoadChange, type LoadChanged, loadWatch } from "./pool-load.ts";
import { resizeWorkers, workerTarget } from "./pool-size.ts";

/** Input of the pool. */
export interface PoolInput {
  deps: RuntimeDeps<TaskStore>;
  /** Where its and its workers' events go (lib/events/event-outlet.ts). */
  events: EventSink;
}

/** Messages the pool understands (a subset of the runtime's, plus its children's lifecycle). */
export type PoolEvent =
  | Extract<
    RuntimeMessage,
    {
      type:
        | "task.ready"
        | "task.abort"
        | "workers.scale"
        | "workers.info"
        | "workers.drain"
        | "workers.pause"
        | "workers.resume"
        | "debug.crash";
    }
  >
  | LoadChanged
  | { type: "worker.parked"; delta: 1 | -1 }
  | { type: `xstate.done.actor.${string}` }
  | { type: `xstate.error.actor.${string}`; error: unknown };

interface PoolContext {
  deps: RuntimeDeps<TaskStore>;
  concurrency: number;
  nextId: number;
  paused: boolean;
  events: EventSink;
  /** `workers.resources`: what the workers' tasks hold, lent to their claims. */
  resources: ResourceLedger;
  /** The grace period of the drain under way. */
  graceMs: number;
  /** Who asked for the drain under way (a second ask gets the same answer). */
  drainAsks: ReplyTo<"workers.drain">[];
  /** The load guard (one per runtime, like the ledger). */
  guard: LoadGuard;
  /** Why the load guard holds the workers now; null while they claim. */
  throttled: Throttle | null;
  /** Since when (epoch ms) it holds them. */
  throttledSince: number;
  /** Workers whose task waits for its children, each lending its slot (actors/pool-size.ts). */
  parked: number;
  /** What a worker calls as its task starts waiting; the returned function ends it. */
  park: () => () => void;
}

/** Workers hold off claiming: paused (or draining), or the load guard tripped. */
const held = (context: PoolContext) => context.paused || context.throttled !== null;

/** A worker spawned while the pool holds its workers (scale-up, replacement) is held too. */
function holdNew(self: Parameters<typeof workersOf>[0], context: PoolContext, ids: string[]) {
  if (!held(context)) return;
  const children = self.getSnapshot().children as Record<string, WorkerRef | undefined>;
  for (const id of ids) children[id]?.send({ type: "pause" });
}

/** Brings the workers to `target` (actors/pool-size.ts), spawning what is missing. */
function resize(
  self: Parameters<typeof workersOf>[0],
  context: PoolContext,
  target: number,
  enqueue: Parameters<typeof spawnWorkers>[2] & { assign(values: Partial<PoolContext>): void } & {
    (action: () => void): void;
  },
): void {
  const add = resizeWorkers(self, target);
  if (add === 0) return;
  const ids = spawnWorkers(context, add, enqueue);
  enqueue.assign({ nextId: context.nextId + add });
  enqueue(() => holdNew(self, context, ids));
}

/**
 * One ledger per runtime, kept across restarts of the pool: the workers of a
 * pool that crashed may still be finishing their tasks, and what those hold
 * is not free for the new pool's workers.
 */
const LEDGERS = new WeakMap<RuntimeDeps<TaskStore>, ResourceLedger>();

function ledgerOf(deps: RuntimeDeps<TaskStore>): ResourceLedger {
  let ledger = LEDGERS.get(deps);
  if (!ledger) {
    ledger = new ResourceLedger(deps.config.workers.resources);
    LEDGERS.set(deps, ledger);
  }
  return ledger;
}

function workerInfo(ref: WorkerRef): WorkerInfo {
  const snap = ref.getSnapshot();
  const value = String(snap.value);
  const state: WorkerInfo["state"] = snap.context.retiring && value !== "stopped"
    ? "stopping"
    : value === "running"
    ? "running"
    : value === "claiming"
    ? "claiming"
    : "idle";
  const task = snap.context.current.task;
  return {
    id: snap.context.id,
    state,
    taskId: task?.id ?? null,
    taskType: task?.type ?? null,
    startedAt: task?.startedAt ?? null,
  };
}

function info(self: Parameters<typeof workersOf>[0], context: PoolContext): PoolInfo {
  const workers = workersOf(self).map(workerInfo);
  return {
    concurrency: context.concurrency,
    workers,
    paused: context.paused,
    resources: context.resources.usage(),
    throttled: context.throttled,
  };
}

function workerInput(context: PoolContext, id: string): WorkerInput {
  const { deps, events, resources, park } = context;
  return { deps, id, events, resources, park };
}

/** Spawns `count` workers (held while the pool holds its workers). */
function spawnWorkers(
  context: PoolContext,
  count: number,
  enqueue: { spawnChild(src: "worker", options: { id: string; input: WorkerInput }): void },
): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `worker-${context.nextId + i}`;
    ids.push(id);
    enqueue.spawnChild("worker", { id, input: workerInput(context, id) });
  }
  return ids;
}

/**
 * The pool actor logic.
 */
export const poolMachine = setup({
  types: {
    context: {} as PoolContext,
    input: {} as PoolInput,
    events: {} as PoolEvent,
  },
  actors: { worker: workerMachine, drain, loadWatch },
}).createMachine({
  id: "pool",
  context: ({ input, self }) => {
    const resources = ledgerOf(input.deps);
    // Resources freed while nobody claims (see ResourceLedger): every idle worker looks.
    resources.wake = () => {
      if (self.getSnapshot().status === "active") {
        self.send({ type: "task.ready", count: Number.MAX_SAFE_INTEGER });
      }
    };
    const { config, loadReading } = input.deps;
    const guard = loadGuardOf(input.deps, config.workers, loadReading ?? systemLoadReading);
    return {
      deps: input.deps,
      concurrency: config.workers.concurrency,
      nextId: 1,
      paused: false,
      events: input.events,
      resources,
      graceMs: 0,
      drainAsks: [],
      guard,
      // A restarted pool keeps a throttle already announced (the guard outlives it).
      throttled: guard.throttle,
      throttledSince: input.deps.now(),
      parked: 0,
      park: () => {
        let parked = true;
        self.send({ type: "worker.parked", delta: 1 });
        return () => {
          if (!parked) return;
          parked = false;
          if (self.getSnapshot().status === "active") {
            self.send({ type: "worker.parked", delta: -1 });
          }
        };
      },
    };
  },
  invoke: { src: "loadWatch", input: ({ context }) => ({ guard: context.guard }) },
  entry: enqueueActions(({ context, enqueue }) => {
    const ids = spawnWorkers(context, context.concurrency, enqueue);
    enqueue.assign({ nextId: context.nextId + ids.length });
    enqueue(({ self }) => holdNew(self, context, ids));
  }),
  on: {
    "task.ready": {
      actions: ({ self, context, event }) => {
        if (held(context)) return;
        let budget = event.count ?? 1;
        for (const worker of workersOf(self)) {
          if (budget <= 0) break;
          if (worker.getSnapshot().value === "idle") {
            worker.send({ type: "wake" });
            budget--;
          }
        }
      },
    },
    "task.abort": {
      actions: ({ self, event }) => {
        for (const worker of workersOf(self)) {
          worker.send({ type: "abort", taskId: event.id, reason: "cancelled" });
        }
      },
    },
    "workers.info": {
      actions: ({ self, context, event }) => answer(event.replyTo, info(self, context)),
    },
    "workers.scale": {
      actions: enqueueActions(({ self, context, event, enqueue }) => {
        const target = event.concurrency;
        resize(self, context, workerTarget(target, context.parked), enqueue);
        const from = context.concurrency;
        enqueue.assign({ concurrency: target });
        enqueue(({ context: after }) => {
          context.deps.log.info("workers scaled", { from, to: target });
          context.events.emit({
            type: "worker.scaled",
            source: "/un/workers",
            data: { from, to: target },
          });
          answer(event.replyTo, { ...info(self, after), concurrency: target });
        });
      }),
    },
    "workers.pause": {
      actions: [
        assign({ paused: true }),
        ({ self }) => workersOf(self).forEach((w) => w.send({ type: "pause" })),
      ],
    },
    "workers.resume": {
      actions: [
        assign({ paused: false }),
        ({ self, context }) => {
          if (!held(context)) workersOf(self).forEach((w) => w.send({ type: "resume" }));
        },
      ],
    },
    "load.changed": {
      actions: enqueueActions(({ self, context, event, enqueue }) => {
        const { change } = event;
        const now = context.deps.now();
        const throttled = change.type === "worker.throttled" ? change.throttle : null;
        enqueue.assign({ throttled, throttledSince: now });
        // Running tasks finish; the workers claim nothing more until the guard lets go.
        if (throttled) workersOf(self).forEach((w) => w.send({ type: "pause" }));
        else if (!context.paused) workersOf(self).forEach((w) => w.send({ type: "resume" }));
        const { log } = context.deps;
        announceLoadChange(change, {
          log,
          events: context.events,
          since: context.throttledSince,
          now,
        });
      }),
    },
    "worker.parked": {
      actions: enqueueActions(({ self, context, event, enqueue }) => {
        const parked = context.parked + event.delta;
        enqueue.assign({ parked });
        // While draining, every worker retires: no stand-ins.
        if (self.getSnapshot().matches("active")) {
          resize(self, context, workerTarget(context.concurrency, parked), enqueue);
        }
      }),
    },
    "debug.crash": {
      actions: () => {
        throw new Error("fault injected into pool");
      },
    },
    "xstate.done.actor.*": {
      actions: enqueueActions(({ event, enqueue }) => {
        enqueue.stopChild(event.type.slice("xstate.done.actor.".length));
      }),
    },
    "xstate.error.actor.*": {
      actions: enqueueActions(({ context, event, enqueue, self }) => {
        const id = event.type.slice("xstate.error.actor.".length);
        context.deps.log.error("worker crashed; replacing it", {
          worker: id,
          error: (event as { error?: unknown }).error,
        });
        stopDescendants(self.getSnapshot().children[id]);
        enqueue.stopChild(id);
        enqueue.spawnChild("worker", { id, input: workerInput(context, id) });
        enqueue(() => holdNew(self, context, [id]));
      }),
    },
  },
  initial: "active",
  states: {
    active: {
      on: {
        "workers.drain": {
          target: "draining",
          actions: assign({
            paused: true,
            graceMs: ({ event }) => event.graceMs,
            drainAsks: ({ event }) => (event.replyTo === undefined ? [] : [event.replyTo]),
          }),
        },
      },
    },
    draining: {
      entry: ({ self }) => workersOf(self).forEach((w) => w.send({ type: "retire" })),
      invoke: {
        src: "drain",
        input: ({ context, self }) => ({
          pool: self,
          graceMs: context.graceMs,
          log: context.deps.log,
        }),
        onDone: {
          target: "active",
          actions: [
            ({ context, event }) => context.drainAsks.forEach((ask) => answer(ask, event.output)),
            assign({ drainAsks: [] }),
          ],
        },
        onError: {
          target: "active",
          actions: [
            ({ context, event }) => context.drainAsks.forEach((ask) => refuse(ask, event.error)),
            assign({ drainAsks: [] }),
          ],
        },
      },
      on: {
        "workers.drain": {
          actions: assign({
            drainAsks: ({ context, event }) =>
              event.replyTo === undefined
                ? context.drainAsks
                : [...context.drainAsks, event.replyTo],
          }),
        },
      },
    },
  },
});
