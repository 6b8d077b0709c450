/**
 * A worker: claims the best ready task, runs it, and goes back for the next.
 *
 *     idle ──wake/poll──► claiming ──task──► running ──done + next task──► running
 *       ▲                    │ none                │ done, no task    │ retire
 *       └────────────────────┴─────────────────────┘                  ▼
 *                                                                  stopped
 *
 * It runs one task at a time; the pool runs `concurrency` of them.
 */

import { assign, fromPromise, setup } from "xstate";
import type { RuntimeDeps } from "../lib/deps.ts";
import { UnavailableError } from "../lib/errors.ts";
import type { EventInit } from "../lib/events.ts";
import type { RuntimeMessage } from "../lib/messages.ts";
import { type AbortReason, type RunOutcome, type RunResult, runTask } from "../lib/run-task.ts";
import type { Task } from "../lib/tasks.ts";

/** An idle worker looks for work this often even without a wake (tasks enqueued by other processes). */
const IDLE_POLL_MS = 1_000;

/** Input of a worker. */
export interface WorkerInput {
  deps: RuntimeDeps;
  id: string;
}

/** Messages a worker understands. */
export type WorkerEvent =
  | { type: "wake" }
  | { type: "pause" }
  | { type: "resume" }
  /** Finish the current task (if any), then stop. */
  | { type: "retire" }
  /** Stop the running attempt: cancelled, or handed back at shutdown. */
  | { type: "abort"; taskId: string; reason: AbortReason }
  | { type: "debug.crash" };

interface WorkerContext {
  deps: RuntimeDeps;
  id: string;
  task: Task | null;
  controller: AbortController | null;
  paused: boolean;
  retiring: boolean;
  lastOutcome: RunOutcome | null;
}

interface RunInput {
  deps: RuntimeDeps;
  id: string;
  task: Task;
  signal: AbortSignal;
  /** Read at the end of the attempt: false once the worker is paused or retiring. */
  mayClaim(): boolean;
}

function claimNext(deps: RuntimeDeps, workerId: string): Promise<Task | null> {
  const queues = deps.config.workers.queues;
  return deps.store.claim({
    workerId,
    queues: queues.includes("*") ? null : queues,
    leaseMs: deps.config.workers.leaseMs,
    now: deps.now(),
  });
}

/**
 * A failed claim sends the worker idle; it tries again on the next wake or
 * idle poll (at most {@link IDLE_POLL_MS} later), so an outage costs one cheap
 * refused claim per worker per second, and work resumes within a second of
 * the store. A store that is away is logged once by the store itself, so
 * here it is only a debug line; anything else is worth a warning.
 */
function claimFailed(deps: RuntimeDeps, workerId: string, error: unknown): null {
  const level = error instanceof UnavailableError ? "debug" : "warn";
  deps.log[level]("claim failed", { worker: workerId, error });
  return null;
}

function toSupervisor(
  system: { get(id: string): { send(m: RuntimeMessage): void } | undefined },
  message: RuntimeMessage,
): void {
  system.get("supervisor")?.send(message);
}

/**
 * The worker actor logic.
 *
 * @example
 * ```ts
 * spawnChild(workerMachine, { id: "worker-1", input: { deps, id: "worker-1" } });
 * ```
 */
export const workerMachine = setup({
  types: {
    context: {} as WorkerContext,
    input: {} as WorkerInput,
    events: {} as WorkerEvent,
  },
  actors: {
    claim: fromPromise<Task | null, { deps: RuntimeDeps; id: string }>(({ input }) =>
      claimNext(input.deps, input.id)
    ),
    // Like BullMQ's moveToFinished, the attempt ends by taking the next task:
    // one transition per task instead of two while there is work.
    run: fromPromise<RunResult, RunInput>(({ input, system }) =>
      runTask({
        deps: input.deps,
        workerId: input.id,
        task: input.task,
        signal: input.signal,
        emit: (init: EventInit) => toSupervisor(system, { type: "event.emit", init }),
        ready: (count) => toSupervisor(system, { type: "task.ready", count }),
        claimNext: () =>
          input.mayClaim()
            ? claimNext(input.deps, input.id).catch((error) =>
              claimFailed(input.deps, input.id, error)
            )
            : Promise.resolve(null),
      })
    ),
  },
  guards: {
    gotTask: ({ event }) => (event as unknown as { output: Task | null }).output !== null,
    canClaim: ({ context }) => !context.paused && !context.retiring,
    retiring: ({ context }) => context.retiring,
  },
}).createMachine({
  id: "worker",
  context: ({ input }) => ({
    deps: input.deps,
    id: input.id,
    task: null,
    controller: null,
    paused: false,
    retiring: false,
    lastOutcome: null,
  }),
  initial: "claiming",
  on: {
    "debug.crash": {
      actions: ({ context }) => {
        throw new Error(`fault injected into ${context.id}`);
      },
    },
    pause: { actions: assign({ paused: true }) },
    resume: { actions: assign({ paused: false }) },
  },
  states: {
    idle: {
      entry: assign({ task: null }),
      always: { guard: "retiring", target: "stopped" },
      on: {
        wake: { guard: "canClaim", target: "claiming" },
        resume: { target: "claiming", actions: assign({ paused: false }) },
        retire: { target: "stopped" },
      },
      after: { [IDLE_POLL_MS]: { guard: "canClaim", target: "claiming", reenter: true } },
    },
    claiming: {
      always: { guard: ({ context }) => context.paused || context.retiring, target: "idle" },
      invoke: {
        src: "claim",
        input: ({ context }) => ({ deps: context.deps, id: context.id }),
        onDone: [
          {
            guard: "gotTask",
            target: "running",
            actions: assign({ task: ({ event }) => event.output }),
          },
          { target: "idle" },
        ],
        onError: {
          target: "idle",
          actions: ({ context, event }) => claimFailed(context.deps, context.id, event.error),
        },
      },
      on: { retire: { actions: assign({ retiring: true }) } },
    },
    running: {
      entry: assign({ controller: () => new AbortController() }),
      invoke: {
        src: "run",
        input: ({ context, self }) => ({
          deps: context.deps,
          id: context.id,
          task: context.task!,
          signal: context.controller!.signal,
          mayClaim: () => {
            const now = self.getSnapshot().context;
            return !now.paused && !now.retiring;
          },
        }),
        onDone: [
          {
            guard: ({ event }) => event.output.next !== null,
            target: "running",
            reenter: true,
            actions: assign({
              lastOutcome: ({ event }) => event.output.outcome,
              task: ({ event }) => event.output.next,
            }),
          },
          {
            guard: "retiring",
            target: "stopped",
            actions: assign({ lastOutcome: ({ event }) => event.output.outcome }),
          },
          {
            target: "idle",
            actions: assign({ lastOutcome: ({ event }) => event.output.outcome }),
          },
        ],
        onError: {
          target: "claiming",
          actions: ({ context, event }) =>
            context.deps.log.error("task runner failed", {
              worker: context.id,
              error: event.error,
            }),
        },
      },
      on: {
        abort: {
          actions: ({ context, event }) => {
            if (context.task?.id === event.taskId) context.controller?.abort(event.reason);
          },
        },
        retire: { actions: assign({ retiring: true }) },
      },
      exit: assign({ controller: null }),
    },
    stopped: { type: "final" },
  },
});
