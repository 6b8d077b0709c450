/**
 * The runtime's sources: the config's sources written to the store at start
 * (their `hooks` shorthand handed to the runtime's hooks, lib/hooks/, at start
 * and at each change), the scanner children a process runs
 * for them (or, on a shared store, the source leader that runs them), and the
 * `source.*` changes it follows while it runs (a postgres source deleted
 * through this process's API also loses its triggers). Part of the composition root
 * (runtime/runtime.ts), split off so each file holds one concept.
 */

import type { AnyActorLogic } from "xstate";
import { loadScanners, scannerLogic } from "../actors/scanners.ts";
import {
  SOURCE_LEADER_ID,
  type SourceLeaderEvent,
  sourceLeaderMachine,
} from "../actors/source-leader.ts";
import type { ChildSpec, SupervisorEvent } from "../actors/supervisor.ts";
import type { EventBus } from "../lib/events/bus.ts";
import { type CloudEvent, PROCESS_ID } from "../lib/events/cloud-event.ts";
import type { Config, SourceSpec } from "../lib/config/load.ts";
import type { RuntimeDeps } from "../lib/protocol/deps.ts";
import type { Hooks } from "../lib/hooks/mod.ts";
import type { Logger } from "../lib/log.ts";
import { type ScanLease, sourceLease } from "../lib/sources/lease.ts";
import type { Coordination } from "../lib/store/coordination.ts";
import { parsedSources, type SourceStore, type StoredSource } from "../lib/store/source-store.ts";

/** `source.*` events the runtime follows (lib/sources/manage.ts makes them). */
const SOURCE_CHANGES: ReadonlySet<string> = new Set([
  "source.created",
  "source.updated",
  "source.deleted",
  "source.enabled",
  "source.disabled",
]);

/**
 * What {@link RuntimeSources} needs of the runtime.
 */
export interface SourcesHost {
  config: Config;
  /** Scanners and the source leader get these deps; the sources are read and written through `deps.store`. */
  deps: RuntimeDeps<SourceStore & Coordination>;
  log: Logger;
  /** The runtime's hooks: told the stored sources, whose `hooks` shorthand they route with. */
  hooks: Hooks;
  /** This process's role scans sources. */
  scans: boolean;
  /** Several processes share the store: a source is scanned only by its lease's holder. */
  distributed: boolean;
  /** Sends to the supervisor. */
  send(message: SupervisorEvent): void;
  /** The source leader actor, when this process runs one. */
  leader(): { send(message: SourceLeaderEvent): void } | undefined;
  /** True once the runtime is stopping: changes are no longer applied. */
  stopping(): boolean;
}

/**
 * The sources of one runtime.
 */
export class RuntimeSources {
  #changes: Promise<void> = Promise.resolve();

  constructor(private readonly host: SourcesHost) {}

  /**
   * Config sources are (re)written to the store (the config file wins at each
   * start, also over a run-time disable); sources added at run time stay.
   * Resolves with the enabled ones.
   */
  async sync(): Promise<SourceSpec[]> {
    const { config, deps } = this.host;
    const now = Date.now();
    for (const source of config.sources) {
      const existing = await deps.store.getSource(source.id);
      await deps.store.putSource({
        id: source.id,
        kind: source.kind,
        enabled: source.enabled,
        spec: source,
        origin: "config",
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
      });
    }
    const stored = await deps.store.listSources();
    this.#hooksFrom(stored);
    for (const source of stored) this.#unparsed(source, "at start");
    const usable = parsedSources(stored);
    await loadScanners(usable.map((s) => s.kind));
    return usable.filter((s) => s.enabled).map((s) => s.spec);
  }

  /** Says so when a stored source's definition no longer parses (it is listed, with the reason, but not scanned). */
  #unparsed(source: StoredSource, when: string): void {
    if (source.spec !== null) return;
    this.host.log.error("stored source not scanned: its definition no longer parses", {
      source: source.id,
      kind: source.kind,
      when,
      error: source.error,
      fix: `DELETE /un/sources/${source.id}, then add it again (or fix it in un.config.json)`,
    });
  }

  /** The scanner child of a source, or null when this build has no scanner of its kind. */
  scannerChild(source: SourceSpec): ChildSpec | null {
    const logic: AnyActorLogic | undefined = scannerLogic[source.kind];
    if (!logic) {
      this.host.log.warn("no scanner for this source kind in this build", {
        source: source.id,
        kind: source.kind,
      });
      return null;
    }
    return {
      id: `source:${source.id}`,
      kind: `scanner:${source.kind}`,
      logic,
      input: { deps: this.host.deps, source },
    };
  }

  /** The source leader of a distributed scanner process; scanners get the lease and its fence. */
  leaderChild(): ChildSpec {
    const scannerChild = async (source: SourceSpec, fence: number) => {
      await loadScanners([source.kind]);
      const child = this.scannerChild(source);
      const lease: ScanLease = { name: sourceLease(source.id), fence };
      return child && { ...child, input: { ...(child.input as object), lease } };
    };
    return {
      id: SOURCE_LEADER_ID,
      kind: "source-leader",
      logic: sourceLeaderMachine,
      input: { deps: this.host.deps, scannerChild },
    };
  }

  /**
   * Follows `source.*` events on the bus (made here or, through the bridge,
   * elsewhere), one change at a time, in order; returns how to stop.
   */
  follow(bus: EventBus): () => void {
    return bus.subscribe("source.*", (event) => {
      if (!SOURCE_CHANGES.has(event.type) || !event.subject) return;
      const id = event.subject;
      const removed = this.#removedHere(event);
      this.#changes = this.#changes
        .then(() => this.#apply(event.type, id))
        .catch((error) =>
          this.host.log.error("could not apply a source change", {
            event: event.type,
            source: id,
            error,
          })
        );
      // After the scanner stopped; off the chain, so a slow database holds up no other change.
      if (removed) {
        void this.#changes.then(() => this.#cleanUp(removed)).catch((error) =>
          this.host.log.warn("removed source's triggers not dropped", { source: id, error })
        );
      }
    }, "source-changes");
  }

  /**
   * A postgres source deleted through this process's API: its stored record
   * (the event's copy is redacted), read at once, before the route deletes it.
   */
  #removedHere(event: CloudEvent): Promise<StoredSource | null> | null {
    const kind = (event.data as { source?: { kind?: unknown } } | null)?.source?.kind;
    if (event.type !== "source.deleted" || event.origin !== PROCESS_ID || kind !== "postgres") {
      return null;
    }
    return this.host.deps.store.getSource(event.subject!).catch(() => null);
  }

  /** Drops the triggers a removed postgres source installed (lib/sources/postgres-cleanup.ts). */
  async #cleanUp(removed: Promise<StoredSource | null>): Promise<void> {
    const source = await removed;
    if (!source) return;
    const { deps, config, log } = this.host;
    const remaining = await deps.store.listSources().catch(() => null);
    // Without the list, a trigger another source needs might go: keep them all.
    if (remaining === null) return log.warn("removed source's triggers kept: sources unreadable");
    const { cleanUpRemovedSource } = await import("../lib/sources/postgres-cleanup.ts");
    await cleanUpRemovedSource(source, remaining, config, log);
  }

  /**
   * One change: the hooks learn the sources now stored and, with the scanner role, the
   * source's scanner is stopped and, unless deleted or disabled, started
   * afresh from the stored definition.
   */
  async #apply(type: string, id: string): Promise<void> {
    const { host } = this;
    if (host.stopping()) return;
    // A deleted source is still stored while its event goes out (routes/sources.ts).
    const stored = (await host.deps.store.listSources())
      .filter((s) => !(type === "source.deleted" && s.id === id));
    this.#hooksFrom(stored);
    if (!host.scans || host.stopping()) return;
    if (host.distributed) {
      // The leader (re)starts or stops the scanner if this process leads the source.
      host.leader()?.send({
        type: "leader.refresh",
        source: id,
        deleted: type === "source.deleted",
      });
      return;
    }
    host.send({ type: "supervisor.stop", id: `source:${id}` });
    const found = type === "source.deleted" || type === "source.disabled"
      ? undefined
      : stored.find((s) => s.id === id && s.enabled);
    if (found) this.#unparsed(found, `on ${type}`);
    const source = found?.spec ? found : undefined;
    if (source) await loadScanners([source.kind]);
    const child = source && this.scannerChild(source.spec);
    if (child) host.send({ type: "supervisor.spawn", child });
    host.log.info(child ? "source scanner (re)started" : "source scanner stopped", {
      source: id,
      because: type,
    });
  }

  #hooksFrom(stored: StoredSource[]): void {
    this.host.hooks.useSources(parsedSources(stored).map((s) => s.spec));
  }
}
