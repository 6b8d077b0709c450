/**
 * Which actors a process runs for its role (`un start --role`): the children
 * the supervisor starts, and how they stop at a graceful shutdown. Part of the
 * composition root (runtime/runtime.ts), split off so each file holds one concept, as
 * runtime/sources.ts is.
 */

import type { AnyActorRef } from "xstate";
import { releaseLeadership, SOURCE_LEADER_ID } from "../actors/source-leader.ts";

import { poolMachine } from "../actors/pool.ts";
import { prioritizerMachine } from "../actors/prioritizer.ts";
import { schedulerMachine } from "../actors/scheduler.ts";
import type { BridgeInput } from "../actors/bridge.ts";
import type { ChildSpec, SupervisorEvent } from "../actors/supervisor.ts";
import type { RuntimeSources } from "./sources.ts";
import type { EventBus } from "../lib/events/bus.ts";
import type { SourceSpec } from "../lib/config/load.ts";
import type { RuntimeDeps } from "../lib/protocol/deps.ts";
import type { EventSink } from "../lib/events/event-outlet.ts";
import type { Hooks } from "../lib/hooks/mod.ts";
import type { Logger } from "../lib/log.ts";
import { ask } from "../lib/protocol/ask.ts";

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
 */
export function hasPool(role: Role): boolean {
  return HAS_POOL.includes(role);
}

/**
 * True when the role scans sources.
 */
export function scansSources(role: Role): boolean {
  return HAS_SCANNERS.includes(role);
}

/** What {@link roleChildren} needs of the runtime. */
export interface RoleHost {
  role: Role;
  deps: RuntimeDeps;
  /** Where the actors' own events go (lib/events/event-outlet.ts). */
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
    const { bridgeMachine } = await import("../actors/bridge.ts");
    children.push({ id: "bridge", kind: "bridge", logic: bridgeMachine, input });
  }
  return children;
}

/**
 * What {@link stopRoleChildren} needs: the supervisor (its system, to find
 * the source leader), its children's ids, and the configuration.
 */
export interface StoppingHost {
  role: Role;
  log: Logger;
  shutdownGraceMs: number;
  supervisor: { send(message: SupervisorEvent): void };
  system: { get(id: string): AnyActorRef | undefined };
  childIds(): string[];
}

/**
 * The first half of a graceful stop: sources are handed over (on a shared
 * store) and their scanners stopped, so no new work comes in; then the
 * workers drain: running tasks get `shutdownGraceMs` to finish and are handed
 * back after that. Never throws: what could not be done is logged (leases
 * bring the rest back).
 */
export async function stopRoleChildren(host: StoppingHost): Promise<void> {
  const { log, supervisor } = host;
  const leader = host.system.get(SOURCE_LEADER_ID);
  if (leader) {
    // Hand the sources over now rather than when their leases run out.
    await releaseLeadership(leader, 5_000).catch((error) =>
      log.warn("source leases not released; they run out by themselves", { error })
    );
  }
  for (const id of host.childIds()) {
    if (id.startsWith("source:")) supervisor.send({ type: "supervisor.stop", id });
  }
  if (!hasPool(host.role)) return;
  try {
    const grace = host.shutdownGraceMs;
    const drained = await ask(supervisor, "workers.drain", { graceMs: grace }, {
      timeoutMs: grace + 10_000,
    });
    log.info("workers stopped", { ...drained });
  } catch (err) {
    log.error("workers did not drain cleanly; leases will bring their tasks back", { error: err });
  }
}
