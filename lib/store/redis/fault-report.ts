/**
 * How a store reports faults beyond "unreachable" (Redis refusing writes at
 * `maxmemory`, Redis having lost its data) and how the runtime follows them:
 * one ERROR line when each begins, one INFO line when it ends, the
 * `un_store_resets_total` counter, and the `store.reset` event.
 *
 * Nothing here loads ioredis: the runtime and the routes use it on the
 * embedded store too (where nothing is reported).
 */

import type { EventInit } from "../../events/cloud-event.ts";
import type { Logger } from "../../log.ts";
import type { Counters } from "../../metrics/render.ts";
import type { Store } from "../types.ts";

/** The counter of losses of data this process saw. */
export const RESETS_METRIC = "un_store_resets_total";

/**
 * A loss of data as every process of the cluster sees it (the reset marker in
 * Redis): the epoch that replaced `previous`, when it was first seen, and when
 * an operator acknowledged it (`un store ack-reset`), if they did.
 */
export interface StoreReset {
  epoch: string;
  at: string;
  previous: string;
  ackedAt?: string;
}

/**
 * What a store tells its fault listeners, once each:
 * - `reset`: the data is gone. `observed`: this process saw the epoch change
 *   (one that starts after the loss did not); `announce`: this process was the
 *   first to see it, so it is the one to publish `store.reset`;
 * - `reset-acknowledged`: an operator acknowledged it;
 * - `oom` / `oom-cleared`: Redis refuses writes at `maxmemory` / takes them again.
 */
export type StoreFaultChange =
  | { kind: "reset"; reset: StoreReset; reason: string; observed: boolean; announce: boolean }
  | { kind: "reset-acknowledged"; reset: StoreReset }
  | { kind: "oom"; reason: string; maxmemory: number | null }
  | { kind: "oom-cleared"; downMs: number };

/**
 * The answer of {@link FaultReporting.ackReset}: the loss acknowledged, or
 * null when none waited for an acknowledgement.
 */
export interface AckResult {
  acknowledged: boolean;
  reset: StoreReset | null;
}

/**
 * A store that reports faults and takes an operator's acknowledgement of a
 * loss of data (the Redis store).
 */
export interface FaultReporting {
  /** Listens to fault changes; faults present now are told at once. Returns the unsubscribe function. */
  onFault(listener: (change: StoreFaultChange) => void): () => void;
  /** Acknowledges the loss of data of the current epoch for every process of the cluster. */
  ackReset(): Promise<AckResult>;
}

/**
 * True when `store` reports faults (see {@link FaultReporting}).
 */
export function reportsFaults<S extends object>(store: S): store is S & FaultReporting {
  const candidate = store as Partial<FaultReporting>;
  return typeof candidate.onFault === "function" && typeof candidate.ackReset === "function";
}

/**
 * Listeners of fault changes.
 */
export class FaultListeners {
  readonly #listeners = new Set<(change: StoreFaultChange) => void>();
  /**
   * Changes told before anyone listened: the store checks its epoch when it
   * opens, before the runtime listens, and a fault found then must be heard.
   */
  #unheard: StoreFaultChange[] | null = [];

  /** Adds a listener (the first hears what was told before it came); returns its removal. */
  add(listener: (change: StoreFaultChange) => void): () => void {
    this.#listeners.add(listener);
    const unheard = this.#unheard ?? [];
    this.#unheard = null;
    for (const change of unheard) this.#deliver(listener, change);
    return () => this.#listeners.delete(listener);
  }

  /** Tells every listener; one that throws does not keep the others from hearing it. */
  tell(change: StoreFaultChange): void {
    this.#unheard?.push(change);
    for (const listener of this.#listeners) this.#deliver(listener, change);
  }

  #deliver(listener: (change: StoreFaultChange) => void, change: StoreFaultChange): void {
    try {
      listener(change);
    } catch {
      // A listener's failure is its own (it logs through the runtime's logger).
    }
  }
}

/**
 * The health problem (and ERROR line) of a loss of data.
 */
export function resetReason(reset: StoreReset): string {
  return `Redis lost its data (epoch changed at ${reset.at}): the tasks, events and sources ` +
    "stored there are gone; new work proceeds on the empty store; /health stays degraded " +
    "until an operator runs `un store ack-reset`";
}

/** What {@link followStoreFaults} needs. */
export interface FaultFollowing {
  store: Store;
  log: Logger;
  counters: Counters;
  /** Publishes an event (logged and on the bus). */
  emit(init: EventInit): void;
}

/**
 * Follows the store's faults for the runtime: logs each once, counts losses
 * of data in `un_store_resets_total` (shown as 0 until one happens), and
 * publishes `store.reset` from the process that saw the loss first (once per
 * loss across the cluster). Returns the unsubscribe function.
 */
export function followStoreFaults(following: FaultFollowing): () => void {
  const { store, log, counters, emit } = following;
  counters.inc(RESETS_METRIC, {}, 0);
  if (!reportsFaults(store)) return () => {};
  return store.onFault((change) => {
    switch (change.kind) {
      case "reset": {
        const { reset } = change;
        if (change.observed) counters.inc(RESETS_METRIC);
        log.error(change.reason, {
          epoch: reset.epoch,
          previous: reset.previous,
          ...(reset.ackedAt ? { acknowledgedAt: reset.ackedAt } : {}),
        });
        if (change.announce) {
          emit({
            type: "store.reset",
            source: "/un/store",
            priority: "critical",
            data: {
              store: store.kind,
              at: reset.at,
              epoch: reset.epoch,
              previous: reset.previous,
              message: change.reason,
            },
          });
        }
        return;
      }
      case "reset-acknowledged":
        return log.info("store reset acknowledged; /health no longer reports it", {
          at: change.reset.at,
          ackedAt: change.reset.ackedAt ?? null,
        });
      case "oom":
        return log.error(change.reason, { maxmemory: change.maxmemory });
      case "oom-cleared":
        return log.info("Redis takes writes again; creates and publishes are accepted", {
          downMs: change.downMs,
        });
    }
  });
}
