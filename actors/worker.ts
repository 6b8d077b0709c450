/**
 * A worker: claims the best ready task, runs it, and goes back for the next.
 *
 *     idle ──wake/poll──► claiming ──task──► running ──done + next task──► running
 *       ▲                    │ none                │ done, no task    │ retire
 *       └────────────────────┴─────────────────────┘                  ▼
 *                                                                  stopped
 *
 * It runs one task at a time; the pool runs `concurrency` of them. The
 * claim-and-run loop is one callback actor (`loop`) that lives as long as the
 * worker: it reports each change of state to the machine (`loop.*`), which
 * the pool and the inspector read, and the machine forwards control messages
 * (wake, pause, retire, abort) to it. The task being run is no message: it is
 * a {@link CurrentTask} the loop writes and the pool reads, since a message
 * per task (a transition and a snapshot each) cost a busy pool of no-op tasks
 * an eighth of its throughput. For the same reason the resources its task
 * holds are no message either: its claims take them from the pool's ledger
 * (lib/tasks/resources.ts), and it releases them as the attempt ends. Its task's
 * events are no message either: they go to the event outlet, which logs them
 * and hands them to the bus (lib/events/event-outlet.ts).
 */

import { assign, fromCallback, sendTo, setup } from "xstate";
import type { RuntimeDeps } from "../lib/protocol/deps.ts";
import type { TaskStore } from "../lib/store/types.ts";
import { UnavailableError } from "../lib/errors.ts";
import type { EventSink } from "../lib/events/event-outlet.ts";
import type { EventInit } from "../lib/events/cloud-event.ts";
import type { RuntimeMessage, TaskRequest } from "../lib/protocol/messages.ts";
import { ask } from "../lib/protocol/ask.ts";
import type { ResourceLedger } from "../lib/tasks/resources.ts";
import { type AbortReason, runTask } from "../lib/tasks/run-task.ts";
import type { Task } from "../lib/tasks/task.ts";

/** An idle worker looks for work this often even without a wake (tasks enqueued by other processes). */
const IDLE_POLL_MS = 1_000;

/** Input of a worker. */
export interface WorkerInput {
  deps: RuntimeDeps<TaskStore>;
  id: string;
  /** Where its task's events go (logged, then to the bus). */
  events: EventSink;
  /** The pool's resources: claims take from them, and the worker's task holds what it took. */
  resources: ResourceLedger;
  /** Lends this worker's slot while its task waits for children (the pool spawns a stand-in). */
  park?: () => () => void;
}

/**
 * The task a worker runs now (null between tasks): written by the worker's
 * loop as it takes each task, read by the pool (worker info, drain).
 */
export interface CurrentTask {
  task: Task | null;
}

interface LoopInput extends WorkerInput {
  current: CurrentTask;
}

/** What the machine tells its loop. */
type LoopCommand =
  | { type: "wake" }
  | { type: "pause" }
  | { type: "resume" }
  | { type: "retire" }
  | { type: "abort"; taskId: string; reason: AbortReason };

/** What the loop reports to the machine. */
type LoopReport =
  | { type: "loop.claiming" }
  | { type: "loop.running" }
  | { type: "loop.idle" }
  | { type: "loop.stopped" };

/** Messages a worker understands. */
export type WorkerEvent =
  | { type: "wake" }
  | { type: "pause" }
  | { type: "resume" }
  /** Finish the current task (if any), then stop. */
  | { type: "retire" }
  /** Stop the running attempt: cancelled, or handed back at shutdown. */
  | { type: "abort"; taskId: string; reason: AbortReason }
  | { type: "debug.crash" }
  | LoopReport;

interface WorkerContext {
  input: WorkerInput;
  id: string;
  current: CurrentTask;
  retiring: boolean;
}

function claimNext(
  deps: RuntimeDeps<TaskStore>,
  workerId: string,
  budget: ResourceLedger,
): Promise<Task | null> {
  const queues = deps.config.workers.queues;
  return deps.store.claim({
    workerId,
    queues: queues.includes("*") ? null : queues,
    leaseMs: deps.config.workers.leaseMs,
    now: deps.now(),
    budget,
  });
}

/**
 * A failed claim sends the worker idle; it tries again on the next wake or
 * idle poll (at most {@link IDLE_POLL_MS} later), so an outage costs one cheap
 * refused claim per worker per second, and work resumes within a second of
 * the store. A store that is away is logged once by the store itself, so
 * here it is only a debug line; anything else is worth a warning.
 */
function claimFailed(deps: RuntimeDeps<TaskStore>, workerId: string, error: unknown): null {
  const level = error instanceof UnavailableError ? "debug" : "warn";
  deps.log[level]("claim failed", { worker: workerId, error });
  return null;
}

/**
 * The claim-and-run loop of one worker. Like BullMQ's moveToFinished, an
 * attempt ends by taking the next task (see `runTask`), so while there is
 * work the loop goes from task to task without an idle step between.
 */
const loop = fromCallback<LoopCommand, LoopInput>(({ input, sendBack, receive, system }) => {
  const { deps, id, events, current: shown, resources } = input;
  const toSupervisor = (message: RuntimeMessage) => system.get("supervisor")?.send(message);
  let paused = false;
  let retiring = false;
  /** The machine stopped (pool scale-down, crash, shutdown): finish the attempt, claim nothing. */
  let stopped = false;
  let current: { task: Task; controller: AbortController } | null = null;
  let wakeUp: (() => void) | null = null;
  let reported: LoopReport["type"] | null = null;

  const report = (message: LoopReport) => {
    if (message.type === reported) return;
    reported = message.type;
    if (!stopped) sendBack(message);
  };
  const wake = () => wakeUp?.();
  /** Resolves after `ms`, or at once on a wake. */
  const rest = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      wakeUp = done;
      function done() {
        clearTimeout(timer);
        wakeUp = null;
        resolve();
      }
    });
  const mayClaim = () => !paused && !retiring && !stopped;
  // Every claim comes after the attempt before it ended (runTask claims the
  // next task as the outcome is written): what that task held is free again
  // first, so this very claim may take it. A failed claim may have recorded
  // a task it never got (its commit failed): that is freed too.
  const claim = () => {
    if (current) resources.release(current.task.id);
    return mayClaim()
      ? claimNext(deps, id, resources).then((task) => {
        if (task) resources.confirm(task.id);
        return task;
      }, (error) => {
        resources.claimFailed(id);
        return claimFailed(deps, id, error);
      })
      : Promise.resolve(null);
  };

  receive((command) => {
    switch (command.type) {
      case "pause":
        paused = true;
        break;
      case "resume":
        paused = false;
        wake();
        break;
      case "retire":
        retiring = true;
        wake();
        break;
      case "wake":
        wake();
        break;
      case "abort":
        if (current?.task.id === command.taskId) current.controller.abort(command.reason);
        break;
    }
  });

  // Made once per worker, not once per task.
  const emit = (init: EventInit) => events.emit(init);
  const ready = (count: number) => toSupervisor({ type: "task.ready", count });
  // A handler's ctx.enqueue: the prioritizer's batch create, as the API's.
  const enqueue = (requests: TaskRequest[]) =>
    ask({ send: toSupervisor }, "task.enqueueMany", { requests });
  const run = async () => {
    let next: Task | null = null;
    while (!stopped) {
      if (next === null) {
        if (retiring) break;
        if (mayClaim()) {
          report({ type: "loop.claiming" });
          next = await claim();
        }
        if (next === null) {
          report({ type: "loop.idle" });
          await rest(IDLE_POLL_MS);
          continue;
        }
      }
      const controller = new AbortController();
      current = { task: next, controller };
      shown.task = next;
      report({ type: "loop.running" });
      const result = await runTask({
        deps,
        workerId: id,
        task: next,
        controller,
        emit,
        ready,
        enqueue,
        park: input.park,
        claimNext: claim,
      });
      resources.release(next.id);
      current = null;
      shown.task = null;
      // A task claimed just as the machine stopped keeps its lease until it
      // runs out; the reaper then gives it to another worker. It is not run
      // here, so it holds nothing.
      next = result.next;
    }
    if (next !== null) resources.release(next.id);
    report({ type: "loop.stopped" });
  };
  run().catch((error) => {
    // runTask does not throw; this is a bug, and a worker that stops claiming must say so.
    deps.log.error("worker loop failed; the worker stops", { worker: id, error });
    if (current) resources.release(current.task.id);
    report({ type: "loop.stopped" });
  });
  return () => {
    stopped = true;
    wake();
  };
});

/**
 * The worker actor logic.
 */
export const workerMachine = setup({
  types: {
    context: {} as WorkerContext,
    input: {} as WorkerInput,
    events: {} as WorkerEvent,
  },
  actors: { loop },
}).createMachine({
  id: "worker",
  context: ({ input }) => ({ input, id: input.id, current: { task: null }, retiring: false }),
  // At the root, so the loop lives as long as the worker whatever its state.
  invoke: {
    id: "loop",
    src: "loop",
    input: ({ context }) => ({ ...context.input, current: context.current }),
  },
  initial: "claiming",
  on: {
    "debug.crash": {
      actions: ({ context }) => {
        throw new Error(`fault injected into ${context.id}`);
      },
    },
    wake: { actions: sendTo("loop", { type: "wake" }) },
    pause: { actions: sendTo("loop", { type: "pause" }) },
    resume: { actions: sendTo("loop", { type: "resume" }) },
    retire: { actions: [assign({ retiring: true }), sendTo("loop", { type: "retire" })] },
    abort: { actions: sendTo("loop", ({ event }) => event) },
    "loop.claiming": { target: ".claiming" },
    "loop.running": { target: ".running" },
    "loop.idle": { target: ".idle" },
    "loop.stopped": { target: ".stopped" },
  },
  states: {
    idle: {},
    claiming: {},
    running: {},
    stopped: { type: "final" },
  },
});
