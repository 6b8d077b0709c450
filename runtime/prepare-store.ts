/**
 * What a process does to the store before any actor runs: it states its
 * config's rate limits (the last process to start sets them for all) and, on
 * the embedded store, puts back in the queue whatever was running when the
 * last process died (nobody else can hold a lease on that file).
 */

import type { Config } from "../lib/config/load.ts";
import type { Logger } from "../lib/log.ts";
import { rateLimitsOf } from "../lib/store/queue-control.ts";
import type { TaskStore } from "../lib/store/types.ts";

/** Options of {@link prepareStore}. */
export interface PrepareStoreOptions {
  store: TaskStore;
  config: Config;
  log: Logger;
  /** The embedded store, with a pool in this process: stalled tasks are this process's. */
  recover: boolean;
  /** Counts leases that ended with the process that held them. */
  leaseExpired(count: number): void;
}

/** Readies the store for this process's actors. */
export async function prepareStore(options: PrepareStoreOptions): Promise<void> {
  const { store, config, log } = options;
  await store.setRateLimits(rateLimitsOf(config.queues, log));
  if (!options.recover) return;
  const recovered = await store.recoverStalled(Date.now(), true);
  options.leaseExpired(recovered.filter((t) => t.from === "running").length);
  if (recovered.length) {
    log.warn("tasks that were running when un last stopped are queued again", {
      count: recovered.length,
    });
  }
}
