/**
 * This process in the process registry (lib/processes/registry.ts): who it is
 * (role, host, pid), what it can run, and its pool, written at start and at
 * each heartbeat so `GET /un/processes` and the admission of task types see
 * it. Part of the composition root (runtime/runtime.ts), split off so each file holds
 * one concept.
 */

import type { Role } from "./roles.ts";
import type { Config } from "../lib/config/load.ts";
import { PROCESS_ID } from "../lib/events/cloud-event.ts";
import type { Logger } from "../lib/log.ts";
import type { PoolInfo } from "../lib/protocol/messages.ts";
import { ProcessRegistry } from "../lib/processes/registry.ts";
import type { TaskCatalog } from "../lib/safety/runnable.ts";
import type { Coordination } from "../lib/store/types.ts";

/**
 * What {@link startRegistry} needs of the runtime.
 */
export interface RegistryHost {
  /** The registry is kept with the store's coordination part. */
  store: Coordination;
  log: Logger;
  config: Config;
  role: Role;
  startedAt: number;
  catalog: TaskCatalog;
  /** The pool as it is now; null without one. */
  pool(): Promise<PoolInfo | null>;
  now(): number;
}

/**
 * Records this process now and at every heartbeat; returns the registry (stop it at shutdown).
 */
export function startRegistry(host: RegistryHost): ProcessRegistry {
  const registry = new ProcessRegistry({
    store: host.store,
    log: host.log,
    heartbeatMs: host.config.scheduler.heartbeatMs,
    self: {
      id: PROCESS_ID,
      role: host.role,
      host: Deno.hostname(),
      pid: Deno.pid,
      startedAt: host.startedAt,
      types: host.catalog.types,
      execCommands: host.catalog.execCommands,
    },
    pool: host.pool,
    now: host.now,
  });
  registry.start();
  return registry;
}
