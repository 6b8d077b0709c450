/**
 * The worker pool: spawns `concurrency` workers, wakes idle ones when tasks
 * become ready, scales at run time, aborts cancelled tasks, and drains at
 * shutdown. It supervises its workers one-for-one (a crashed worker is
 * replaced; the task it held comes back through the lease reaper). A drain is
 * its `draining` state: the workers retire, and an invoked promise
 * (actors/pool-drain.ts) waits for their tasks. Its resources
 * (`workers.resources`) are a ledger its workers share: their claims take
 * what is free, their tasks hold it until their attempt ends. Its workers'
 * `task.*` events go straight to the event outlet: no actor needs them.
 */

import { assign, enqueueActions, setup } from "xstate";
import type { RuntimeDeps } from "../lib/protocol/deps.ts";
import type { TaskStore } from "../lib/store/types.ts";
import { answer, refuse } from "../lib/protocol/ask.ts";
import type { PoolInfo, ReplyTo, RuntimeMessage, WorkerInfo } from "../lib/protocol/messages.ts";
import { stopDescendants } from "../lib/protocol/xstate-internals.ts";
import type { EventSink } from "../lib/events/event-outlet.ts";
import { ResourceLedger } from "../lib/tasks/resources.ts";
import { type WorkerInput, workerMachine } from "./worker.ts";
import { drain, type WorkerRef, workersOf } from "./pool-drain.ts";

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
  };
}

function workerInput(context: PoolContext, id: string): WorkerInput {
  return { deps: context.deps, id, events: context.events, resources: context.resources };
}

/**
 * The pool actor logic.
 *
 * @example
 * ```ts
 * spawnChild(poolMachine, { id: "pool", systemId: "pool", input: { deps, events } });
 * ```
 */
export const poolMachine = setup({
  types: {
    context: {} as PoolContext,
    input: {} as PoolInput,
    events: {} as PoolEvent,
  },
  actors: { worker: workerMachine, drain },
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
    return {
      deps: input.deps,
      concurrency: input.deps.config.workers.concurrency,
      nextId: 1,
      paused: false,
      events: input.events,
      resources,
      graceMs: 0,
      drainAsks: [],
    };
  },
  entry: enqueueActions(({ context, enqueue }) => {
    for (let i = 0; i < context.concurrency; i++) {
      const id = `worker-${context.nextId + i}`;
      enqueue.spawnChild("worker", { id, input: workerInput(context, id) });
    }
    enqueue.assign({ nextId: context.nextId + context.concurrency });
  }),
  on: {
    "task.ready": {
      actions: ({ self, context, event }) => {
        if (context.paused) return;
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
        const active = workersOf(self).filter((w) => !w.getSnapshot().context.retiring);
        const target = event.concurrency;
        if (target > active.length) {
          const add = target - active.length;
          for (let i = 0; i < add; i++) {
            const id = `worker-${context.nextId + i}`;
            enqueue.spawnChild("worker", { id, input: workerInput(context, id) });
          }
          enqueue.assign({ nextId: context.nextId + add });
        } else {
          // Retire idle workers first; busy ones finish their task, then stop.
          const order = [...active].sort((a, b) =>
            Number(a.getSnapshot().value === "running") -
            Number(b.getSnapshot().value === "running")
          );
          for (const w of order.slice(0, active.length - target)) w.send({ type: "retire" });
        }
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
        ({ self }) => workersOf(self).forEach((w) => w.send({ type: "resume" })),
      ],
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
