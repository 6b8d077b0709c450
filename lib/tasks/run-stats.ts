/**
 * The learned statistics of task types (runs, failures, mean run time), gathered
 * in memory per process and written to the store as one batch per type at most
 * once a second, and at shutdown. One write per finished attempt was a separate
 * store round trip per task (a Lua call on Redis, an UPSERT on SQLite) for
 * figures the prioritizer only needs roughly: a second's delay, or losing the
 * last second's runs in a crash, changes no decision worth a write per task.
 */

import { type Clock, systemClock, type TimerHandle } from "../clock.ts";
import { UnavailableError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/types.ts";

/**
 * How long runs are gathered before they are written.
 */
export const RUN_STATS_FLUSH_MS = 1_000;

/**
 * Options of {@link RunStats}.
 */
export interface RunStatsOptions {
  store: Pick<Store, "recordRuns">;
  log: Logger;
  /** Epoch ms, the `now` of each write (default: the clock's). */
  now?(): number;
  /** The flush and shutdown timers (default {@link systemClock}; tests pass a manual one). */
  clock?: Clock;
  /** Default {@link RUN_STATS_FLUSH_MS}. */
  flushMs?: number;
}

/** Runs of one type since the last flush (mutated in place: no garbage per run). */
interface Pending {
  runs: number;
  failures: number;
  totalMs: number;
}

/**
 * Per-process accumulator of finished attempts by task type.
 */
export class RunStats {
  #pending = new Map<string, Pending>();
  #timer: TimerHandle | null = null;
  #writes = new Set<Promise<void>>();
  #closed = false;
  readonly #flushMs: number;
  readonly #clock: Clock;
  readonly #now: () => number;

  constructor(private readonly options: RunStatsOptions) {
    this.#flushMs = options.flushMs ?? RUN_STATS_FLUSH_MS;
    this.#clock = options.clock ?? systemClock;
    this.#now = options.now ?? (() => this.#clock.now());
  }

  /** Counts one finished attempt of `type`; ignored once closed (the store is going away). */
  record(type: string, durationMs: number, ok: boolean): void {
    if (this.#closed) return;
    let pending = this.#pending.get(type);
    if (pending === undefined) {
      pending = { runs: 0, failures: 0, totalMs: 0 };
      this.#pending.set(type, pending);
    }
    pending.runs++;
    if (!ok) pending.failures++;
    pending.totalMs += durationMs;
    // Armed by the first run after a flush, so an idle process keeps no timer.
    this.#timer ??= this.#clock.setTimeout(() => {
      this.#timer = null;
      void this.flush();
    }, this.#flushMs);
  }

  /** Runs gathered and not yet handed to the store, all types together. */
  get pending(): number {
    let runs = 0;
    for (const p of this.#pending.values()) runs += p.runs;
    return runs;
  }

  /**
   * Writes what was gathered (one `recordRuns` per type) and waits for it and
   * for any write still under way. Never rejects: the statistics are best
   * effort, and a store that is away loses that batch (logged), as one failed
   * write per run did before.
   */
  flush(): Promise<void> {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#pending.size > 0) {
      const batch = this.#pending;
      this.#pending = new Map();
      const now = this.#now();
      for (const [type, p] of batch) {
        const write = this.options.store
          .recordRuns(type, { runs: p.runs, failures: p.failures, meanMs: p.totalMs / p.runs }, now)
          .catch((error) => this.#failed(type, p.runs, error))
          .finally(() => this.#writes.delete(write));
        this.#writes.add(write);
      }
    }
    return Promise.all(this.#writes).then(() => {});
  }

  /**
   * Writes the last runs and stops gathering; call it before the store closes.
   * Waits at most `timeoutMs` for the store, so a shutdown during an outage is
   * not held up by statistics.
   */
  async close(timeoutMs = 2_000): Promise<void> {
    this.#closed = true;
    let timer: TimerHandle | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = this.#clock.setTimeout(() => resolve(true), timeoutMs);
    });
    const timedOut = await Promise.race([this.flush().then(() => false), late]);
    this.#clock.clearTimeout(timer);
    if (timedOut) {
      this.options.log.warn("run statistics still being written at shutdown; left behind", {
        writes: this.#writes.size,
      });
    }
  }

  #failed(type: string, runs: number, error: unknown): void {
    // Store outages are reported by the store (once); elsewhere it is worth a warning.
    const level = error instanceof UnavailableError ? "debug" : "warn";
    this.options.log[level]("run statistics not recorded", { type, runs, error });
  }
}
