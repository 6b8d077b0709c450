/**
 * Which actors a process runs for its role (`un start --role`): the children
 * the supervisor starts. Part of the composition root (runtime.ts), split off
 * so each file holds one concept, as runtime-sources.ts is.
 */

import { poolMachine } from "./actors/pool.ts";
import { prioritizerMachine } from "./actors/prioritizer.ts";
import { schedulerMachine } from "./actors/scheduler.ts";
import type { BridgeInput } from "./actors/bridge.ts";
import type { ChildSpec } from "./actors/supervisor.ts";
import type { RuntimeSources } from "./runtime-sources.ts";
import type { EventBus } from "./lib/bus.ts";
import type { SourceSpec } from "./lib/config.ts";
import type { RuntimeDeps } from "./lib/deps.ts";
import type { EventSink } from "./lib/event-outlet.ts";
import type { Hooks } from "./lib/hooks/mod.ts";

/** Which actors a process runs (`un start --role`). */
export type Role = "all" | "api" | "worker" | "scanner";
/** The roles, for validation. */
export const ROLES: readonly Role[] = ["all", "api", "worker", "scanner"];

const HAS_POOL: readonly Role[] = ["all", "worker"];
const HAS_SCANNERS: readonly Role[] = ["all", "scanner"];
/**
 * Roles whose bridge applies hooks from the stream's consumer group. Not `api`:
 * it keeps request latency free of hook work, and the group holds entries until
 * a worker or scanner process reads them, so none is lost while only APIs run.
 */
const HAS_HOOK_CONSUMER: readonly Role[] = ["all", "worker", "scanner"];

/**
 * True when the role runs the worker pool (and the scheduler).
 *
 * @example
 * ```ts
 * hasPool("worker"); // true
 * hasPool("api"); // false
 * ```
 */
export function hasPool(role: Role): boolean {
  return HAS_POOL.includes(role);
}

/**
 * True when the role scans sources.
 *
 * @example
 * ```ts
 * scansSources("scanner"); // true
 * ```
 */
export function scansSources(role: Role): boolean {
  return HAS_SCANNERS.includes(role);
}

/** What {@link roleChildren} needs of the runtime. */
export interface RoleHost {
  role: Role;
  deps: RuntimeDeps;
  /** Where the actors' own events go (lib/event-outlet.ts). */
  events: EventSink;
  /** Several processes share the store (Redis). */
  distributed: boolean;
  /** The Redis bridge runs (distributed, `redis.events` on). */
  bridge: boolean;
  sources: RuntimeSources;
  /** The runtime's hooks: with the bridge, its consumer group feeds them. */
  hooks: Hooks;
  /** The sources as synced at start (scanned here on the embedded store). */
  sourceSpecs: SourceSpec[];
  bus: EventBus;
  /** Told the bridge's close, which a graceful stop awaits. */
  onBridgeClose(closing: Promise<void>): void;
}

/**
 * The supervisor's children for a role.
 *
 * @example
 * ```ts
 * const children = await roleChildren({ role: "worker", deps, distributed: true, bridge: true, ... });
 * ```
 */
export async function roleChildren(host: RoleHost): Promise<ChildSpec[]> {
  const { role, deps, events, sources } = host;
  const children: ChildSpec[] = [
    { id: "prioritizer", kind: "prioritizer", logic: prioritizerMachine, input: { deps, events } },
  ];
  if (hasPool(role)) {
    children.push(
      { id: "scheduler", kind: "scheduler", logic: schedulerMachine, input: { deps, events } },
      { id: "pool", kind: "pool", logic: poolMachine, input: { deps, events } },
    );
  }
  if (scansSources(role) && host.distributed) {
    // Shared store: a source is scanned only by the process holding its lease.
    children.push(sources.leaderChild());
  } else if (scansSources(role)) {
    for (const source of host.sourceSpecs) {
      const child = sources.scannerChild(source);
      if (child) children.push(child);
    }
  }
  if (host.bridge) {
    const bus = host.bus;
    const input: BridgeInput = {
      deps,
      consume: HAS_HOOK_CONSUMER.includes(role),
      hooks: host.hooks,
      following: {
        wants: (type) => bus.wantsRemote(type),
        patterns: () => bus.remotePatterns(),
        onChange: (fn) => bus.onRemoteInterest(fn),
      },
      onClose: host.onBridgeClose,
    };
    // Loaded only in distributed mode: it brings ioredis, which an embedded
    // process has no use for (idle memory).
    const { bridgeMachine } = await import("./actors/bridge.ts");
    children.push({ id: "bridge", kind: "bridge", logic: bridgeMachine, input });
  }
  return children;
}
