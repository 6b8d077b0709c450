/**
 * The embedded feeder of the hooks: this process's own events, from its bus.
 * (The other feeder is the Redis bridge's consumer group, lib/store/redis/bridge/apply.ts:
 * with it, each event is routed once across every process, so a process that
 * uses it must not feed from its bus too.)
 */

import type { EventBus } from "../events/bus.ts";
import type { TaskRequest } from "../protocol/messages.ts";
import type { HookRouting } from "./hooks.ts";

/**
 * Routes every event this process makes through the hooks and hands each
 * task request to `enqueue` (the runtime sends it to the prioritizer through
 * the supervisor). Events of other processes are left out: they were routed
 * where they were made. Returns how to stop.
 *
 * @example
 * ```ts
 * const stop = feedFromBus(bus, hooks, (request) => runtime.send({ type: "task.enqueue", request }));
 * ```
 */
export function feedFromBus(
  bus: EventBus,
  hooks: HookRouting,
  enqueue: (request: TaskRequest) => void,
): () => void {
  return bus.subscribe(
    "**",
    (event) => {
      // One request at a time, not one batch: a batch is stored all or nothing,
      // and one hook asking for a task that is refused must not cost the others.
      const requests = hooks.route(event);
      for (let i = 0; i < requests.length; i++) enqueue(requests[i]);
    },
    "hooks",
    { remote: false },
  );
}
