/**
 * The load guard (`workers.maxLoad`, `workers.minFreeMemoryMb`): while the
 * machine is overloaded the pool claims no new task (running ones finish).
 * It trips when the 1-minute load average per core goes above `maxLoad`, or
 * the available memory below `minFreeMemoryMb`, and lets go only once the
 * reading is back under 90 % of the threshold (for memory: the floor is
 * 90 % of the free memory), so a reading that hovers at the limit does not
 * flap between the two. The pool reads it on a timer, not per claim
 * (actors/pool.ts); the reading is a dependency so tests can drive it.
 */

import os from "node:os";

/** What the guard reads; {@link systemLoadReading} by default, a test's own otherwise. */
export interface LoadReading {
  /** The 1-minute load average divided by the number of cores. */
  loadPerCore(): number;
  /** Memory available to new work, in MB. */
  freeMemoryMb(): number;
}

/** MemAvailable of /proc/meminfo in MB (page cache counts as free), or null off Linux. */
function memAvailableMb(): number | null {
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(Deno.readTextFileSync("/proc/meminfo"));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * The machine's own figures: `os.loadavg()[0]` per core, and MemAvailable of
 * /proc/meminfo (`os.freemem()` where there is none: it leaves out the page
 * cache the kernel gives back on demand, so it reads low on Linux).
 */
export const systemLoadReading: LoadReading = {
  loadPerCore: () => os.loadavg()[0] / Math.max(1, navigator.hardwareConcurrency || 1),
  freeMemoryMb: () => memAvailableMb() ?? os.freemem() / 1_048_576,
};

/** The thresholds (`workers.maxLoad`, `workers.minFreeMemoryMb`); absent: not checked. */
export interface LoadLimits {
  maxLoad?: number;
  minFreeMemoryMb?: number;
}

/** Why the pool stopped claiming: the reading and the threshold it crossed. */
export type Throttle =
  | { reason: "load"; load: number; threshold: number }
  | { reason: "memory"; freeMemoryMb: number; threshold: number };

/** A change of the guard's state, as the pool announces it. */
export type LoadChange =
  | { type: "worker.throttled"; throttle: Throttle }
  | { type: "worker.resumed"; after: Throttle };

/** The share of a threshold the reading must come back under before claims resume. */
export const RESUME_RATIO = 0.9;

/** Readings rounded for events and logs (a load of 1.2345678 says no more than 1.23). */
const round = (value: number) => Math.round(value * 100) / 100;

/**
 * The guard's state and its hysteresis; {@link LoadGuard.check} reads once
 * and says what changed.
 *
 * @example
 * ```ts
 * const guard = new LoadGuard({ maxLoad: 2 }, { loadPerCore: () => 3, freeMemoryMb: () => 4096 });
 * guard.check(); // { type: "worker.throttled", throttle: { reason: "load", load: 3, threshold: 2 } }
 * ```
 */
export class LoadGuard {
  #throttle: Throttle | null = null;

  constructor(readonly limits: LoadLimits, readonly reading: LoadReading) {}

  /** True when a threshold is set (otherwise nothing is read). */
  get enabled(): boolean {
    return this.limits.maxLoad !== undefined || this.limits.minFreeMemoryMb !== undefined;
  }

  /** Why claims stop now; null while they run. */
  get throttle(): Throttle | null {
    return this.#throttle;
  }

  /** Reads the machine once; the change this makes, or null. A reading that throws changes nothing. */
  check(): LoadChange | null {
    if (!this.enabled) return null;
    let over: Throttle | null;
    let clear: boolean;
    try {
      ({ over, clear } = this.#assess());
    } catch {
      return null;
    }
    const before = this.#throttle;
    if (before === null) {
      if (over === null) return null;
      this.#throttle = over;
      return { type: "worker.throttled", throttle: over };
    }
    if (clear) {
      this.#throttle = null;
      return { type: "worker.resumed", after: before };
    }
    // Still throttled: show the latest figure (a second reason only once the first clears).
    this.#throttle = over?.reason === before.reason ? over : (over ?? before);
    return null;
  }

  /** Which threshold is crossed now, and whether every reading is back under its resume level. */
  #assess(): { over: Throttle | null; clear: boolean } {
    const { maxLoad, minFreeMemoryMb } = this.limits;
    let over: Throttle | null = null;
    let clear = true;
    if (maxLoad !== undefined) {
      const load = this.reading.loadPerCore();
      if (load > maxLoad) over = { reason: "load", load: round(load), threshold: maxLoad };
      if (load >= maxLoad * RESUME_RATIO) clear = false;
    }
    if (minFreeMemoryMb !== undefined) {
      const free = this.reading.freeMemoryMb();
      if (free < minFreeMemoryMb && over === null) {
        over = { reason: "memory", freeMemoryMb: Math.round(free), threshold: minFreeMemoryMb };
      }
      if (free * RESUME_RATIO <= minFreeMemoryMb) clear = false;
    }
    return { over, clear };
  }
}

/**
 * One guard per runtime, kept across restarts of the pool (so a restarted
 * pool does not announce a throttle that is already known), and read by
 * `/health` without asking the pool.
 */
const GUARDS = new WeakMap<object, LoadGuard>();

/**
 * The guard of a runtime's deps, made on first use.
 */
export function loadGuardOf(owner: object, limits: LoadLimits, reading: LoadReading): LoadGuard {
  let guard = GUARDS.get(owner);
  if (!guard) {
    guard = new LoadGuard(limits, reading);
    GUARDS.set(owner, guard);
  }
  return guard;
}

/** Why the pool of a runtime's deps stops claiming now; null when it claims (or has no guard). */
export function throttleOf(owner: object): Throttle | null {
  return GUARDS.get(owner)?.throttle ?? null;
}
