/**
 * Queue control on the embedded store: paused queues are rows of
 * `queue_state` (they survive a restart) mirrored in memory, and rate-limit
 * windows (per queue, or per group of a queue limited by group key) are
 * counted in memory. One process uses the file at a time and
 * claims run in its writes one after the other, so the mirror is exact. A
 * window a restart interrupts is counted again from the tasks started in it
 * (each task's last start), so a restart does not reset a quota of 100 a day.
 */

import {
  ClaimGate,
  type QueueControl,
  type RateLimit,
  type RateLimitUsage,
  type WindowCount,
  windowName,
  windowOf,
} from "../queue-control.ts";
import { withRateGroup } from "../rate-groups.ts";
import type { NewTask } from "../../tasks/task.ts";
import type { SqliteAccess } from "./access.ts";
import { text } from "./statements.ts";

/** The paused queues' table (also made by `un store recover`'s fresh store). */
export const QUEUE_STATE_TABLE = `CREATE TABLE IF NOT EXISTS queue_state (
  queue TEXT PRIMARY KEY,
  paused INTEGER NOT NULL
) WITHOUT ROWID`;

/** {@link QueueControl} on SQLite, and the {@link ClaimGate} its claims check. */
export class SqliteQueues implements QueueControl {
  readonly #paused = new Set<string>();
  #limits = new Map<string, RateLimit>();
  readonly #windows = new Map<string, WindowCount>();
  #gate: ClaimGate | null = null;

  constructor(private readonly db: SqliteAccess) {
    db.sql.db.exec(QUEUE_STATE_TABLE);
    for (const row of db.sql.all("SELECT queue FROM queue_state WHERE paused = 1")) {
      this.#paused.add(text(row, "queue"));
    }
    this.#rebuild();
  }

  /** What claims check now; null when no queue is paused or limited (nothing to check). */
  gate(): ClaimGate | null {
    return this.#gate;
  }

  async setQueuePaused(queue: string, paused: boolean): Promise<boolean> {
    if (this.#paused.has(queue) === paused) return false;
    await this.db.write((sql) =>
      sql.run(
        `INSERT INTO queue_state (queue, paused) VALUES (:queue, :paused)
         ON CONFLICT (queue) DO UPDATE SET paused = excluded.paused`,
        { queue, paused: paused ? 1 : 0 },
      )
    );
    if (paused) this.#paused.add(queue);
    else this.#paused.delete(queue);
    this.#rebuild();
    return true;
  }

  /** `task` with its group key when its queue is limited by group (see lib/store/rate-groups.ts). */
  grouped(task: NewTask): NewTask {
    return withRateGroup(this.#limits, task);
  }

  pausedQueues(): Promise<string[]> {
    return Promise.resolve([...this.#paused].sort());
  }

  setRateLimits(limits: Record<string, RateLimit>, now = Date.now()): Promise<void> {
    this.#limits = new Map(
      Object.entries(limits).map((
        [queue, { max, perMs, by }],
      ) => [queue, by === undefined ? { max, perMs } : { max, perMs, by }]),
    );
    this.#countStarted(now);
    this.#rebuild();
    return Promise.resolve();
  }

  /**
   * The current window of each limit that this process has not counted yet
   * (just opened), counted from the tasks started in it. One scan of the
   * queue's tasks per limit, at start-up.
   */
  #countStarted(now: number): void {
    for (const [queue, limit] of this.#limits) {
      const { index, until } = windowOf(limit, now);
      const rows = this.db.sql.all(
        `SELECT rate_group AS g, count(*) AS n FROM tasks
         WHERE queue = :queue AND started_at >= :from GROUP BY rate_group`,
        { queue, from: index * limit.perMs },
      );
      const counts = new Map<string, number>();
      for (const row of rows) {
        const name = windowName(queue, limit, row.g === null ? null : String(row.g));
        counts.set(name, (counts.get(name) ?? 0) + Number(row.n));
      }
      for (const [name, count] of counts) {
        if (this.#windows.get(name)?.index !== index) {
          this.#windows.set(name, { index, count, until });
        }
      }
    }
  }

  rateLimitUsage(now: number, group?: string | null): Promise<Record<string, RateLimitUsage>> {
    const out: Record<string, RateLimitUsage> = {};
    for (const [queue, limit] of this.#limits) {
      const { index, until } = windowOf(limit, now);
      // The queue's total, or with `group` that group's own window (the one its claims check).
      const name = group === undefined ? queue : windowName(queue, limit, group);
      const window = this.#windows.get(name);
      out[queue] = { ...limit, count: window?.index === index ? window.count : 0, until };
    }
    return Promise.resolve(out);
  }

  #rebuild(): void {
    this.#gate = this.#paused.size === 0 && this.#limits.size === 0
      ? null
      : new ClaimGate(this.#paused, this.#limits, this.#windows);
  }
}
