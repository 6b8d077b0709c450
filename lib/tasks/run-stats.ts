/**
 * The learned statistics of task types (runs, failures, run times), gathered
 * in memory per process and written to the store as one batch per type at most
 * once a second, and at shutdown. One write per finished attempt was a separate
 * store round trip per task (a Lua call on Redis, an UPSERT on SQLite) for
 * figures the prioritizer only needs roughly: a second's delay, or losing the
 * last second's runs in a crash, changes no decision worth a write per task.
 *
 * Each run counts under its type (or its `prioritizer.scoreBy` key) and under
 * the fleet key, the pooled statistics the learned model's prior comes from
 * (lib/tasks/learn/model.ts).
 */

import { type Clock, systemClock, type TimerHandle } from "../clock.ts";
import { UnavailableError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { MIN_RUN_MS, type RunSample, type Store } from "../store/types.ts";
import { FLEET_KEY, statsKey } from "./learn/model.ts";

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
  /** The `prioritizer` settings that shape what is learned (the key, forgetting). */
  learn?: { scoreBy?: string; halfLife?: number };
}

/** Runs of one type since the last flush (mutated in place: no garbage per run). */
interface Pending {
  runs: number;
  failures: number;
  totalMs: number;
  /** Σ ln(ms) and Σ ln(ms)², for the log-normal run-time model. */
  logSum: number;
  logSqSum: number;
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

  /**
   * Counts one finished attempt of `type` (its payload renders the `scoreBy`
   * key); ignored once closed (the store is going away).
   */
  record(type: string, durationMs: number, ok: boolean, payload: unknown = null): void {
    if (this.#closed) return;
    const scoreBy = this.options.learn?.scoreBy;
    this.#add(scoreBy === undefined ? type : statsKey(scoreBy, { type, payload }), durationMs, ok);
    this.#add(FLEET_KEY, durationMs, ok);
    // Armed by the first run after a flush, so an idle process keeps no timer.
    this.#timer ??= this.#clock.setTimeout(() => {
      this.#timer = null;
      void this.flush();
    }, this.#flushMs);
  }

  #add(key: string, durationMs: number, ok: boolean): void {
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = { runs: 0, failures: 0, totalMs: 0, logSum: 0, logSqSum: 0 };
      this.#pending.set(key, pending);
    }
    pending.runs++;
    if (!ok) pending.failures++;
    pending.totalMs += durationMs;
    const log = Math.log(Math.max(MIN_RUN_MS, durationMs));
    pending.logSum += log;
    pending.logSqSum += log * log;
  }

  /** Runs gathered and not yet handed to the store, all types together. */
  get pending(): number {
    return this.#pending.get(FLEET_KEY)?.runs ?? 0;
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
      const halfLifeMs = this.options.learn?.halfLife;
      for (const [type, p] of batch) {
        const { runs, failures, logSum, logSqSum } = p;
        const sample: RunSample = { runs, failures, meanMs: p.totalMs / runs, logSum, logSqSum };
        if (halfLifeMs !== undefined) sample.halfLifeMs = halfLifeMs;
        const write = this.options.store
          .recordRuns(type, sample, now)
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
