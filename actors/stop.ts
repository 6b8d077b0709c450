/**
 * Stopping actors that XState leaves running.
 */

import type { AnyActorRef } from "xstate";

/**
 * Stops what a crashed actor had started. XState does not stop the invoked or
 * spawned children of an actor that threw: its watcher, timers or database
 * connection would go on (and keep emitting) beside the restarted copy. The
 * public `stop()` is refused on non-root actors, hence XState's internal
 * `_stop()`, which is what its own `stopChild` calls.
 *
 * @example
 * ```ts
 * stopDescendants(self.getSnapshot().children["source:docs"]);
 * ```
 */
export function stopDescendants(ref: AnyActorRef | undefined): void {
  const children = (ref?.getSnapshot() as { children?: Record<string, AnyActorRef> } | undefined)
    ?.children;
  for (const child of Object.values(children ?? {})) {
    stopDescendants(child);
    (child as unknown as { _stop(): void })._stop();
  }
}
