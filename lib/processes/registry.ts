/**
 * This process's entry in `GET /un/processes`: written to the store every
 * heartbeat (with its pool's figures and resource capacity) and removed on a
 * clean stop. An entry lives three heartbeats, so a
 * process that was killed, or cut off from the store, drops out of everyone's
 * list within that time. A heartbeat the store refuses (Redis away) is said
 * once and tried again at the next beat; it never stops the process.
 */

import type { Logger } from "../log.ts";
import type { PoolInfo } from "../protocol/messages.ts";
import type { Coordination, ProcessRecord } from "../store/types.ts";

/** Heartbeats an entry outlives, so one late or lost write does not drop a live process. */
const BEATS_KEPT = 3;

/** What {@link ProcessRegistry} needs. */
export interface ProcessRegistryOptions {
  store: Pick<Coordination, "recordProcess" | "forgetProcess">;
  log: Logger;
  heartbeatMs: number;
  /** Who this process is and what it can run (the parts that do not change while it runs). */
  self: Pick<
    ProcessRecord,
    "id" | "role" | "host" | "pid" | "startedAt" | "types" | "execCommands"
  >;
  /** The pool as it is now; null for a process without one. */
  pool(): Promise<PoolInfo | null>;
  now(): number;
}

/**
 * Keeps this process's record in the store while it runs.
 */
export class ProcessRegistry {
  readonly #options: ProcessRegistryOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #beating: Promise<void> = Promise.resolve();
  #failing = false;
  #stopped = false;
  #lastPool: PoolInfo | null = null;

  constructor(options: ProcessRegistryOptions) {
    this.#options = options;
  }

  /** Records the process now, then every heartbeat. */
  start(): void {
    this.#beat();
  }

  /** Stops the heartbeats and removes the record (best effort: it runs out anyway). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#beating;
    const { store, log, self } = this.#options;
    await store.forgetProcess(self.id).catch((error) =>
      log.warn("process record not removed; it runs out by itself", { error })
    );
  }

  #beat(): void {
    this.#beating = this.#record().finally(() => {
      if (this.#stopped) return;
      const timer = setTimeout(() => this.#beat(), this.#options.heartbeatMs);
      // The heartbeat alone never keeps the process alive (the timer is a number in Deno).
      Deno.unrefTimer(timer as unknown as number);
      this.#timer = timer;
    });
  }

  async #record(): Promise<void> {
    const { store, log, heartbeatMs, self, now } = this.#options;
    try {
      // A pool that does not answer in time (restarting) keeps its last figures.
      const pool = await this.#options.pool().catch(() => this.#lastPool);
      this.#lastPool = pool;
      const record: ProcessRecord = {
        ...self,
        seenAt: now(),
        concurrency: pool?.concurrency ?? 0,
        busy: pool?.workers.filter((worker) => worker.taskId !== null).length ?? 0,
        paused: pool?.paused ?? false,
        resources: capacityOf(pool),
      };
      await store.recordProcess(record, BEATS_KEPT * heartbeatMs, record.seenAt);
      if (this.#failing) log.info("process record written again");
      this.#failing = false;
    } catch (error) {
      if (!this.#failing) log.warn("could not record this process; retrying", { error });
      this.#failing = true;
    }
  }
}

/** The pool's capacity per resource (none without a pool), for other processes to weigh tasks against. */
function capacityOf(pool: PoolInfo | null): Record<string, number> {
  const capacity: Record<string, number> = {};
  for (const [name, use] of Object.entries(pool?.resources ?? {})) capacity[name] = use.capacity;
  return capacity;
}
