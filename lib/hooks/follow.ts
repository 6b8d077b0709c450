/**
 * Keeps a runtime's hooks in step with the hooks stored at run time: loaded
 * at start, reloaded on each `hook.*` event (made here or, through the Redis
 * bridge, in another process), and, on a shared store, read again every
 * `refreshMs` as well, so a process that missed an event (no bridge, an
 * outage) still catches up.
 */

import type { EventBus } from "../events/bus.ts";
import type { Logger } from "../log.ts";
import type { HookStore } from "../store/hook-store.ts";
import type { Hooks } from "./hooks.ts";

/** What {@link followStoredHooks} needs. */
export interface FollowHooksOptions {
  bus: EventBus;
  store: Pick<HookStore, "listHooks">;
  hooks: Pick<Hooks, "useStored">;
  log: Logger;
  /** Also reload this often (null: only on events, as on the embedded store). */
  refreshMs: number | null;
}

/** The hooks' follower: the first load, and how to stop following. */
export interface StoredHooksFollower {
  /** Resolves once the stored hooks are compiled (call it before events flow). */
  load(): Promise<void>;
  /** Resolves once every reload asked for so far has run (a change made here applies then). */
  settled(): Promise<void>;
  stop(): void;
}

/** Follows the stored hooks (see the module's doc). */
export function followStoredHooks(options: FollowHooksOptions): StoredHooksFollower {
  const { bus, store, hooks, log, refreshMs } = options;
  let chain: Promise<void> = Promise.resolve();
  let reported = "";
  const load = async (): Promise<void> => {
    const problems = hooks.useStored(await store.listHooks());
    // Said once per set of problems, not on every reload.
    const text = JSON.stringify(problems);
    if (problems.length > 0 && text !== reported) {
      log.error("stored hooks not routed: their definitions no longer parse", { problems: text });
    }
    reported = text;
  };
  // One reload at a time, in order: the last event's reload reads the last change.
  const reload = () => {
    chain = chain.then(load).catch((error) =>
      log.warn("could not reload the stored hooks", { error })
    );
  };
  const unsubscribe = bus.subscribe("hook.*", reload, "hook-changes");
  const timer = refreshMs === null ? null : setInterval(reload, refreshMs);
  return {
    load,
    settled: () => chain,
    stop() {
      unsubscribe();
      if (timer !== null) clearInterval(timer);
    },
  };
}
