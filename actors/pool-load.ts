/**
 * The pool's load guard at work (the guard itself is lib/tasks/load-guard.ts):
 * a child that reads it every second and reports each change to the pool,
 * and what the pool says about a change (a log line and a
 * `worker.throttled`/`worker.resumed` event, once per change).
 */

import { fromCallback } from "xstate";
import type { EventSink } from "../lib/events/event-outlet.ts";
import type { Logger } from "../lib/log.ts";
import type { LoadChange, LoadGuard } from "../lib/tasks/load-guard.ts";

/** What the load watch tells the pool: the guard tripped or let go. */
export type LoadChanged = { type: "load.changed"; change: LoadChange };

/** How often the guard reads the machine (a reading per claim would cost the claim path). */
export const LOAD_CHECK_MS = 1_000;

/**
 * Reads the guard at once and then every {@link LOAD_CHECK_MS}, and reports
 * each change; does nothing when no threshold is set.
 */
export const loadWatch = fromCallback<LoadChanged, { guard: LoadGuard }>(
  ({ input, sendBack }) => {
    if (!input.guard.enabled) return () => {};
    const check = () => {
      const change = input.guard.check();
      if (change) sendBack({ type: "load.changed", change });
    };
    const timer = setInterval(check, LOAD_CHECK_MS);
    check();
    return () => clearInterval(timer);
  },
);

/** Where a change is told, and since when the guard held the workers (for `throttledMs`). */
export interface Announce {
  log: Logger;
  events: EventSink;
  since: number;
  now: number;
}

/**
 * Logs a change once and emits `worker.throttled {reason, load|freeMemoryMb,
 * threshold}` or `worker.resumed {reason, …, threshold, throttledMs}`.
 */
export function announceLoadChange(change: LoadChange, at: Announce): void {
  if (change.type === "worker.throttled") {
    at.log.warn("machine overloaded: workers stop claiming", { ...change.throttle });
    at.events.emit({ type: change.type, source: "/un/workers", data: change.throttle });
    return;
  }
  const data = { ...change.after, throttledMs: at.now - at.since };
  at.log.info("load back under the guard: workers claim again", data);
  at.events.emit({ type: change.type, source: "/un/workers", data });
}
