/**
 * The hooks of a runtime wired up: the hooks stored at run time loaded before
 * any event flows and then followed (lib/hooks/follow.ts), and, unless the
 * Redis bridge's consumer group feeds them (runtime/roles.ts), the bus as
 * their feeder.
 */

import type { EventBus } from "../lib/events/bus.ts";
import { feedFromBus, followStoredHooks, type Hooks } from "../lib/hooks/mod.ts";
import type { Logger } from "../lib/log.ts";
import type { TaskRequest } from "../lib/protocol/messages.ts";
import type { HookStore } from "../lib/store/hook-store.ts";

/** Stored hooks are read again this often on a shared store (a missed `hook.*` event). */
const STORED_HOOKS_REFRESH_MS = 10_000;

/** What {@link startHooks} wires. */
export interface HookWiring {
  bus: EventBus;
  store: Pick<HookStore, "listHooks">;
  hooks: Hooks;
  log: Logger;
  /** A shared store: refresh the stored hooks now and then. */
  distributed: boolean;
  /** The bridge's consumer group feeds the hooks: the bus does not. */
  fromBridge: boolean;
  enqueue(request: TaskRequest): void;
}

/** Running hooks: when a change made here applies, and how to stop. */
export interface RunningHooks {
  /** Resolves once every reload asked for so far has run. */
  applied(): Promise<void>;
  stop(): void;
}

/** Loads the stored hooks, then follows them and feeds the hooks from the bus. */
export async function startHooks(wiring: HookWiring): Promise<RunningHooks> {
  const { bus, hooks, enqueue } = wiring;
  const follower = followStoredHooks({
    bus,
    store: wiring.store,
    hooks,
    log: wiring.log,
    refreshMs: wiring.distributed ? STORED_HOOKS_REFRESH_MS : null,
  });
  await follower.load();
  const unfeed = wiring.fromBridge ? () => {} : feedFromBus(bus, hooks, enqueue);
  return {
    applied: () => follower.settled(),
    stop() {
      unfeed();
      follower.stop();
    },
  };
}
