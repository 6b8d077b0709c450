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
 * Routes every event this process makes through the hooks (a sampled hook's
 * count in the store) and hands each task request to `enqueue` (the runtime
 * sends it to the prioritizer through the supervisor). Events of other
 * processes are left out: they were routed where they were made. Returns how
 * to stop.
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
      const send = (requests: readonly TaskRequest[]) => {
        for (let i = 0; i < requests.length; i++) enqueue(requests[i]);
      };
      const requests = hooks.route(event);
      // Without a sampled hook at once, as before; a failed count is logged by the bus.
      if (!hooks.sampling(requests)) send(requests);
      else return hooks.sample(requests).then(send);
    },
    "hooks",
    { remote: false },
  );
}
