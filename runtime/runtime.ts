/**
 * The runtime: opens the store, builds the bus, the event log and the hooks,
 * starts the supervisor (which spawns the actors of this process's role, see
 * runtime/roles.ts) and the HTTP control plane, and stops it all gracefully.
 *
 * It is the {@link ControlPlane} the routes get: they send messages to the
 * supervisor and read the store, never reach into an actor.
 */

import { type Actor, createActor } from "xstate";
import { supervisorMachine } from "../actors/supervisor.ts";
import { inspectApi, supervisedActors } from "./inspect.ts";
import { SOURCE_LEADER_ID } from "../actors/source-leader.ts";
import { prepareStore } from "./prepare-store.ts";
import { hasPool, type Role, roleChildren, scansSources, stopRoleChildren } from "./roles.ts";
import { startRegistry } from "./registry.ts";
import { RuntimeSources } from "./sources.ts";
import { EventBus } from "../lib/events/bus.ts";
import type { Config } from "../lib/config/load.ts";
import type { ActorInfo, ControlPlane, HealthReport } from "../lib/control.ts";
import { type Faults, parseFaults, type RuntimeDeps } from "../lib/protocol/deps.ts";
import type { EventLog } from "../lib/events/event-log.ts";
import { runtimeEventLog } from "../lib/events/event-log-status.ts";
import { EventOutlet } from "../lib/events/event-outlet.ts";
import { exitOnEscalation } from "../lib/protocol/escalation.ts";
import { type CloudEvent, PROCESS_ID } from "../lib/events/cloud-event.ts";
import type { HandlerMap } from "../lib/handlers/types.ts";
import { Hooks } from "../lib/hooks/mod.ts";
import { type RunningHooks, startHooks } from "./hooks.ts";
import { inspectionRecorder, Inspector } from "../lib/inspect/inspector.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { ask } from "../lib/protocol/ask.ts";
import type { PoolInfo, RuntimeMessage } from "../lib/protocol/messages.ts";
import type { ProcessRegistry } from "../lib/processes/registry.ts";
import { RunStats } from "../lib/tasks/run-stats.ts";
import { healthReport } from "../lib/processes/health.ts";
import { type LoadReading, throttleOf } from "../lib/tasks/load-guard.ts";
import { Counters, RuntimeMetrics } from "../lib/metrics/render.ts";
import { type OpenedStore, openStore } from "../lib/store/open.ts";
import type { Store } from "../lib/store/types.ts";
import { answerScanRequests } from "../lib/sources/manual-scan.ts";
import { startSubscriptions } from "../lib/subscriptions/start.ts";
import { watchBatches } from "../lib/tasks/batch-watch.ts";
import { TaskCatalog } from "../lib/safety/runnable.ts";
import { followStoreFaults } from "../lib/store/redis/fault-report.ts";
import { closeIsolates } from "../lib/handlers/isolate-pool.ts";
import { collectProcessWhenIdle } from "../lib/processes/idle-gc.ts";

/** Options of {@link Runtime.start}. */
export interface RuntimeOptions {
  config: Config;
  role?: Role;
  handlers: HandlerMap;
  log?: Logger;
  faults?: Faults;
  /** Let the inspector record actor messages while watched (XState `inspect`; default `api.inspect`). */
  inspect?: boolean;
  /** Called when a child crashed too often. Default: log and exit the process with code 70. */
  onEscalate?: (actorId: string, error: unknown, restarts: number) => void;
  /** What the load guard reads (tests); default the machine's load average and memory. */
  loadReading?: LoadReading;
}

/** How long the inspector keeps recording after its last watcher left (a page reload keeps its past). */
const INSPECT_LINGER_MS = 300_000;

/**
 * A running `un`.
 *
 * @example
 * ```ts
 * const runtime = await Runtime.start({ config, handlers });
 * runtime.send({ type: "task.enqueue", request: { type: "noop", payload: { hi: 1 } } });
 * await runtime.stop("done");
 * ```
 */
export class Runtime implements ControlPlane {
  readonly processId = PROCESS_ID;
  readonly startedAt = Date.now();
  readonly bus: EventBus;
  readonly counters = new Counters();
  /** `GET /metrics`: this runtime's own registry. */
  readonly #metrics: RuntimeMetrics;
  /** `api.inspect` (or the start option): whether watchers may switch recording on. */
  #inspectable = false;
  readonly #inspector = new Inspector(1_000, {
    record: () => {
      const recording = this.#supervisor.system.inspect(inspectionRecorder(this.#inspector));
      return () => recording.unsubscribe();
    },
    lingerMs: INSPECT_LINGER_MS,
  });
  readonly #eventLog: EventLog;
  /** The event log and the bus as one: where every event of this process goes out. */
  readonly #events: EventOutlet;
  #supervisor!: Actor<typeof supervisorMachine>;
  #stopping: Promise<void> | null = null;
  #resolveDone!: (reason: string) => void;
  /** Resolves with the reason once the runtime has stopped (from a signal, `POST /un/stop`, ...). */
  readonly done: Promise<string> = new Promise((resolve) => (this.#resolveDone = resolve));
  #unsubscribe: Array<() => void> = [];
  readonly #sources: RuntimeSources;
  /** Events in, task requests out (lib/hooks/): fed by the bus here, or by the Redis bridge. */
  readonly #hooks: Hooks;
  #runningHooks: RunningHooks | null = null;
  /** The Redis bridge's close (events it still holds go out), awaited by a graceful stop. */
  #bridgeClosing: Promise<void> = Promise.resolve();
  #registry: ProcessRegistry | null = null;
  /** What this process and the live workers can run: creates of anything else are refused. */
  readonly catalog: TaskCatalog;

  private constructor(
    readonly config: Config,
    readonly role: Role,
    readonly log: Logger,
    private readonly opened: OpenedStore,
    private readonly deps: RuntimeDeps,
  ) {
    this.catalog = new TaskCatalog({
      handlers: deps.handlers,
      pool: hasPool(role),
      execCommands: Object.keys(config.exec.commands),
      store: opened.embedded ? null : opened.store,
      now: deps.now,
    });
    this.#metrics = new RuntimeMetrics({
      store: opened.store,
      startedAt: this.startedAt,
      taskTypes: this.catalog.types,
      hooks: () => this.#hooks.compiled,
      counters: this.counters,
      actors: () => this.actors(),
      pool: () =>
        hasPool(role) ? ask(this, "workers.info", {}, { timeoutMs: 2_000 }) : Promise.resolve(null),
      health: () => this.health(),
      eventLog: () => ({ buffered: this.#eventLog.pending, dropped: this.#eventLog.dropped }),
    });
    this.bus = new EventBus((name, error, event) =>
      log.warn("event subscriber failed", { subscriber: name, event: event.type, error })
    );
    this.#hooks = new Hooks(config, opened.store); // sampled hooks count in the store
    this.#sources = new RuntimeSources({
      config,
      deps,
      log,
      hooks: this.#hooks,
      scans: scansSources(role),
      distributed: !opened.embedded,
      send: (message) => this.#supervisor.send(message),
      leader: () => this.#supervisor.system.get(SOURCE_LEADER_ID),
      stopping: () => this.#stopping !== null,
    });
    this.#eventLog = runtimeEventLog(opened.store, log, config.events);
    this.#events = new EventOutlet(this.#eventLog, this.bus);
  }

  /** The store (routes read it). */
  get store(): Store {
    return this.opened.store;
  }

  /** Opens the store and starts every actor of the role. */
  static async start(options: RuntimeOptions): Promise<Runtime> {
    const config = options.config;
    const role = options.role ?? "all";
    const log = options.log ?? createLogger(config.log, "runtime");
    const opened = await openStore(config, log);
    const deps: RuntimeDeps = {
      config,
      store: opened.store,
      log,
      handlers: options.handlers,
      faults: options.faults ?? parseFaults(Deno.env.get("UN_FAULTS")),
      runStats: new RunStats({
        store: opened.store,
        log,
        now: Date.now,
        learn: config.prioritizer,
      }),
      loadReading: options.loadReading,
      now: Date.now,
    };
    const runtime = new Runtime(config, role, log, opened, deps);
    try {
      await runtime.#boot(options);
    } catch (err) {
      await opened.close();
      throw err;
    }
    return runtime;
  }

  async #boot(options: RuntimeOptions): Promise<void> {
    const { config, deps, log } = this;
    await prepareStore({
      store: this.store,
      config,
      log,
      recover: this.opened.embedded && hasPool(this.role),
      leaseExpired: (count) => this.#metrics.leaseExpired(count),
    });
    const sources = await this.#sources.sync();
    // Hooks added at run time: compiled before any event flows, then kept in step.
    const hooks = this.#runningHooks = await startHooks({
      bus: this.bus,
      store: this.store,
      hooks: this.#hooks,
      log,
      distributed: this.distributed,
      fromBridge: this.hooksFromBridge,
      enqueue: (request) => this.send({ type: "task.enqueue", request }),
    });
    this.#unsubscribe.push(() => hooks.stop());
    this.#subscribeInternals();
    const collected = (info: object) => log.debug("idle collection", { ...info });
    this.#unsubscribe.push(collectProcessWhenIdle(() => this.bus.delivered, collected));

    const children = await roleChildren({
      role: this.role,
      deps,
      events: this.#events,
      distributed: this.distributed,
      bridge: this.hooksFromBridge,
      sources: this.#sources,
      hooks: this.#hooks,
      sourceSpecs: sources,
      bus: this.bus,
      onBridgeClose: (closing) => (this.#bridgeClosing = closing),
    });
    const inspect = options.inspect ?? config.api.inspect;
    this.#supervisor = createActor(supervisorMachine, {
      id: "supervisor",
      systemId: "supervisor",
      input: {
        deps,
        events: this.#events,
        children,
        escalate: options.onEscalate ??
          exitOnEscalation(
            log,
            config.supervisor,
            () => Promise.all([this.#eventLog.flush(), deps.runStats?.flush()]),
          ),
      },
    });
    this.#inspectable = inspect;
    this.#supervisor.start();
    this.#unsubscribe.push(followStoreFaults({
      store: this.store,
      log,
      counters: this.counters,
      emit: (init) => this.send({ type: "event.emit", init }),
    }));
    this.#registry = startRegistry({
      store: this.store,
      log,
      config,
      role: this.role,
      startedAt: this.startedAt,
      catalog: this.catalog,
      pool: () => this.#poolInfo(),
      now: deps.now,
    });
    log.info("started", {
      role: this.role,
      store: this.opened.description,
      actors: children.map((c) => c.id).join(","),
      concurrency: hasPool(this.role) ? config.workers.concurrency : 0,
    });
  }

  #subscribeInternals(): void {
    this.#unsubscribe.push(
      // This process's events only: each process counts what it made (so the
      // cluster's total is the sum).
      this.bus.subscribe("**", (event) => this.#metrics.event(event), "metrics", { remote: false }),
      // A cancel made here or (through the bridge) elsewhere aborts a local worker running it.
      this.bus.subscribe("task.cancelled", (event) => {
        if (event.subject) this.send({ type: "task.abort", id: event.subject });
      }, "cancel-abort"),
      this.#sources.follow(this.bus),
      startSubscriptions(this), // webhook subscriptions: this process's events
      watchBatches(this), // batch.completed, once, for the batches whose tasks end here
    );
    // Only another process asks this one to scan (lib/sources/manual-scan.ts).
    if (this.distributed) this.#unsubscribe.push(answerScanRequests(this));
  }

  /** The pool as `GET /un/workers` shows it; null without one. */
  #poolInfo(): Promise<PoolInfo | null> {
    if (!hasPool(this.role)) return Promise.resolve(null);
    return ask(this, "workers.info", {}, { timeoutMs: 2_000 });
  }

  /** True when several processes share the store (Redis). */
  get distributed(): boolean {
    return !this.opened.embedded;
  }

  /** Hooks are applied by the Redis bridge's consumer group instead of the local bus. */
  get hooksFromBridge(): boolean {
    return this.distributed && this.config.redis.events;
  }

  // ---- ControlPlane ----

  /** Sends a message to the supervisor. */
  send(message: RuntimeMessage): void {
    this.#supervisor.send(message);
  }

  /** Listens to live events. */
  subscribe(pattern: string, fn: (event: CloudEvent) => void): () => void {
    return this.bus.subscribe(pattern, fn, "api-subscriber");
  }

  /** Resolves once the events made so far are in the log (an outage: in its buffer). */
  eventsLogged(): Promise<void> {
    return this.#eventLog.flush();
  }

  /** Resolves once the subscriptions made so far hear other processes too. */
  subscribed(): Promise<void> {
    return this.bus.remoteSynced();
  }

  hooksApplied(): Promise<void> {
    return this.#runningHooks?.applied() ?? Promise.resolve();
  }

  readonly inspect: ControlPlane["inspect"] = inspectApi(
    () => this.#supervisor,
    this.#inspector,
    () => this.#inspectable,
  );

  /** The supervisor and its children. */
  actors(): ActorInfo[] {
    return supervisedActors(this.#supervisor);
  }

  /** Health: store reachable, actors alive, nothing piling up. */
  health(): Promise<HealthReport> {
    return healthReport({
      processId: this.processId,
      role: this.role,
      startedAt: this.startedAt,
      store: this.store,
      actors: this.actors(),
      bufferedEvents: this.#eventLog.failingSince === null ? 0 : this.#eventLog.pending,
      stopping: this.#stopping !== null,
      throttled: throttleOf(this.deps),
    });
  }

  /** Prometheus text (lib/metrics/render.ts). */
  metrics(): Promise<string> {
    return this.#metrics.render();
  }

  /**
   * Graceful stop: scanners stop, workers stop claiming, running tasks get
   * `workers.shutdownGraceMs` to finish and are handed back after that, the
   * event log is flushed and the store closed. Safe to call more than once.
   */
  stop(reason: string): Promise<void> {
    this.#stopping ??= this.#stop(reason);
    return this.#stopping;
  }

  async #stop(reason: string): Promise<void> {
    const log = this.log;
    log.info("stopping", { reason });
    await stopRoleChildren({
      role: this.role,
      log,
      shutdownGraceMs: this.config.workers.shutdownGraceMs,
      supervisor: this.#supervisor,
      system: this.#supervisor.system,
      childIds: () => this.actors().map((actor) => actor.id),
    });
    this.#unsubscribe.forEach((off) => off());
    this.#inspector.close();
    this.#supervisor.stop();
    // Idle Web Workers of isolated handlers would keep an embedding process alive.
    closeIsolates();
    // Workers are gone: their last second of run statistics goes to the store before it closes.
    await this.deps.runStats?.close();
    await this.#registry?.stop();
    await this.#bridgeClosing;
    // Never waits on a store that is gone: what it will not take is reported lost.
    await this.#eventLog.close();
    await this.opened.close();
    log.info("stopped", { reason });
    this.#resolveDone(reason);
  }
}
