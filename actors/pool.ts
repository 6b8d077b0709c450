/**
 * The worker pool: spawns `concurrency` workers, wakes idle ones when tasks
 * become ready, scales at run time, aborts cancelled tasks, and drains at
 * shutdown. It
 * supervises its workers one-for-one (a crashed worker is replaced; the task it
 * held comes back through the lease reaper). Its resources
 * (`workers.resources`) are a ledger its workers share: their claims take
 * what is free, their tasks hold it until their attempt ends. Its workers'
 * `task.*` events go straight to the event outlet: no actor needs them.
 */

import { type ActorRefFrom, assign, enqueueActions, setup } from "xstate";
import type { RuntimeDeps } from "../lib/protocol/deps.ts";
import type { PoolInfo, RuntimeMessage, WorkerInfo } from "../lib/protocol/messages.ts";
import { stopDescendants } from "./stop.ts";
import type { EventSink } from "../lib/events/event-outlet.ts";
import { ResourceLedger } from "../lib/tasks/resources.ts";
import { type WorkerInput, workerMachine } from "./worker.ts";

/** Input of the pool. */
export interface PoolInput {
  deps: RuntimeDeps;
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

type WorkerRef = ActorRefFrom<typeof workerMachine>;

interface PoolContext {
  deps: RuntimeDeps;
  concurrency: number;
  nextId: number;
  paused: boolean;
  events: EventSink;
  /** `workers.resources`: what the workers' tasks hold, lent to their claims. */
  resources: ResourceLedger;
}

/**
 * One ledger per runtime, kept across restarts of the pool: the workers of a
 * pool that crashed may still be finishing their tasks, and what those hold
 * is not free for the new pool's workers.
 */
const LEDGERS = new WeakMap<RuntimeDeps, ResourceLedger>();

function ledgerOf(deps: RuntimeDeps): ResourceLedger {
  let ledger = LEDGERS.get(deps);
  if (!ledger) {
    ledger = new ResourceLedger(deps.config.workers.resources);
    LEDGERS.set(deps, ledger);
  }
  return ledger;
}

function workersOf(self: { getSnapshot(): { children: Record<string, unknown> } }): WorkerRef[] {
  const workers: WorkerRef[] = [];
  const children = self.getSnapshot().children;
  for (const id in children) if (id.startsWith("worker-")) workers.push(children[id] as WorkerRef);
  return workers;
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

/** Polls until no worker runs a task or the deadline passes. */
async function waitIdle(workers: () => WorkerRef[], until: number): Promise<boolean> {
  while (Date.now() < until) {
    if (workers().every((w) => w.getSnapshot().value !== "running")) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return workers().every((w) => w.getSnapshot().value !== "running");
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
  actors: { worker: workerMachine },
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
      actions: ({ self, context, event }) => event.reply.resolve(info(self, context)),
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
          event.reply?.resolve({ ...info(self, after), concurrency: target });
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
    "workers.drain": {
      actions: [
        assign({ paused: true }),
        ({ self, context, event }) => {
          const workers = () => workersOf(self);
          const busy = workers().filter((w) => w.getSnapshot().value === "running").length;
          workers().forEach((w) => w.send({ type: "retire" }));
          (async () => {
            const finishedInTime = await waitIdle(workers, Date.now() + event.graceMs);
            let handedBack = 0;
            if (!finishedInTime) {
              for (const w of workers()) {
                const task = w.getSnapshot().context.current.task;
                if (w.getSnapshot().value === "running" && task) {
                  handedBack++;
                  w.send({ type: "abort", taskId: task.id, reason: "shutdown" });
                }
              }
              await waitIdle(workers, Date.now() + 5_000);
            }
            context.deps.log.info("workers drained", { busy, handedBack });
            event.reply.resolve({ finished: busy - handedBack, handedBack });
          })().catch((err) => event.reply.reject(err));
        },
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
});
