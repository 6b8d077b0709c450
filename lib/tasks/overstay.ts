/**
 * Handlers that overstay. A handler run in process cannot be killed: when its
 * attempt is stopped (timeout, cancel, lost lease, shutdown) the worker stops
 * waiting for it and moves on, but a handler that ignores `ctx.signal` goes on
 * running. One still running `workers.killAfterMs` after the stop is reported
 * once, so nobody is surprised by the work it still does: a warning, a
 * `task.overstayed` event, and `un_tasks_overstayed_total{queue,type}`
 * (counted from the event). Isolated handlers are terminated instead
 * (lib/handlers/isolate-pool.ts).
 */

import type { Config } from "../config/load.ts";
import type { EventInit, Json } from "../events/cloud-event.ts";
import { type Logger, taskFields } from "../log.ts";
import { taskEvent } from "./task-events.ts";
import type { Task } from "./task.ts";

/** What {@link watchOverstay} reports through (the attempt's options fit). */
export interface OverstayWatch {
  deps: { config: Pick<Config, "workers">; log: Logger };
  task: Task;
  workerId: string;
  emit(init: EventInit): void;
}

/** Why the attempt was stopped, for the report: "timeout", "cancelled", "shutdown", ... */
function reasonOf(reason: unknown): string {
  if (typeof reason === "string") return reason;
  if (reason instanceof Error && reason.name === "TimeoutError") return "timeout";
  if (reason instanceof Error && reason.name === "LeaseExpiredError") return "lease-lost";
  return reason instanceof Error ? reason.name : "aborted";
}

/**
 * Watches a handler's pending work after its attempt was stopped with
 * `reason`: reports it when it has not settled `killAfterMs` later. The timer
 * does not keep the process alive.
 */
export function watchOverstay(
  work: PromiseLike<unknown>,
  reason: unknown,
  watch: OverstayWatch,
): void {
  const stoppedAt = performance.now();
  const killAfterMs = watch.deps.config.workers.killAfterMs;
  const timer = setTimeout(() => {
    const { task } = watch;
    const extra: Record<string, Json> = {
      reason: reasonOf(reason),
      workerId: watch.workerId,
      killAfterMs,
      overstayedMs: Math.round(performance.now() - stoppedAt),
    };
    watch.deps.log.warn(
      "task overstayed: its handler ignored ctx.signal and still runs after workers.killAfterMs",
      { ...taskFields(task), ...extra },
    );
    watch.emit(taskEvent("overstayed", task, extra));
  }, killAfterMs);
  Deno.unrefTimer(timer);
  const done = () => clearTimeout(timer);
  work.then(done, done);
}
