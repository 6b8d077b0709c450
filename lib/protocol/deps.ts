/**
 * What every actor is given at spawn: the shared, plain (non-actor) parts of
 * the runtime. Actors keep their own state; they share only these.
 */

import type { Config } from "../config/load.ts";
import type { HandlerMap } from "../handlers/types.ts";
import type { Logger } from "../log.ts";
import type { RunStats } from "../tasks/run-stats.ts";
import type { LoadReading } from "../tasks/load-guard.ts";
import type { Store } from "../store/types.ts";

/** Test fault switches from `UN_FAULTS` (comma-separated): never set in production. */
export interface Faults {
  /** `debug.crash` messages are routed (and `POST /un/debug/crash/:actor` exists). */
  crash: boolean;
  /** Workers do not renew leases (so a long task's lease expires and another worker takes it). */
  noRenew: boolean;
  /**
   * The Redis bridge reads hook entries from the stream and drops them, neither
   * applying nor acknowledging them (a consumer that dies between read and ack).
   * Absent = off.
   */
  noAck?: boolean;
  /**
   * The Redis bridge takes a second longer over each change of what it
   * follows (as behind a slow Redis), so a new SSE stream's subscription takes
   * effect well after its headers went out. Absent = off.
   */
  slowFollow?: boolean;
}

/**
 * Reads `UN_FAULTS`.
 *
 * @example
 * ```ts
 * parseFaults("crash,no-renew"); // { crash: true, noRenew: true, noAck: false, slowFollow: false }
 * ```
 */
export function parseFaults(value: string | undefined): Faults {
  const set = new Set((value ?? "").split(",").map((s) => s.trim()).filter(Boolean));
  return {
    crash: set.has("crash"),
    noRenew: set.has("no-renew"),
    noAck: set.has("no-ack"),
    slowFollow: set.has("slow-follow"),
  };
}

/**
 * Shared dependencies of the actors. `S` is what of the store the holder
 * uses (`RuntimeDeps<TaskStore>` for a worker); the runtime builds one with
 * the whole {@link Store}, which fits every narrower one.
 *
 * @example
 * ```ts
 * function claimNext(deps: RuntimeDeps<Pick<TaskStore, "claim">>) {}
 * ```
 */
export interface RuntimeDeps<S = Store> {
  config: Config;
  store: S;
  log: Logger;
  handlers: HandlerMap;
  faults: Faults;
  /**
   * Gathers finished attempts per task type and writes them to the store about
   * once a second (the runtime makes one per process and closes it at stop).
   * Absent (tests of single parts): each attempt is written on its own.
   */
  runStats?: RunStats;
  /** What the pool's load guard reads (lib/tasks/load-guard.ts); absent: the machine's own figures. */
  loadReading?: LoadReading;
  /** Epoch ms; tests of pure parts may replace it. */
  now(): number;
}
