/**
 * Chooses the store from the config: Redis when `redis.url` is set, else the
 * embedded SQLite store under `store.path` (locked to this process).
 */

import type { Config } from "../config/load.ts";
import type { Logger } from "../log.ts";
import { acquireStoreLock } from "./lock.ts";
import { SqliteStore } from "./sqlite/store.ts";
import type { FaultChange } from "./sqlite/faults.ts";
import type { Store } from "./types.ts";

/** An open store and how to close it. */
export interface OpenedStore {
  store: Store;
  /** True for the single-process embedded store. */
  embedded: boolean;
  /** For logs: "sqlite .un/un.db", "redis redis://... prefix un:". */
  description: string;
  close(): Promise<void>;
}

/**
 * Opens the configured store.
 *
 * @example
 * ```ts
 * const { store, close } = await openStore(config, log);
 * ```
 */
export async function openStore(config: Config, log: Logger): Promise<OpenedStore> {
  if (config.redis.url) {
    const { RedisStore } = await import("./redis/store.ts");
    const store = await RedisStore.open({
      url: config.redis.url,
      prefix: config.redis.prefix,
      // The bridge's outbound side: every logged event also reaches other processes.
      bridge: config.redis.events,
      eventCap: config.events.maxCount,
      // Once per outage, not per failed command: commands fail fast meanwhile
      // (503 on the API, workers idle) and ioredis reconnects on its own.
      onConnection: (change) =>
        change.up
          ? log.info("redis connection is back; work resumes", { downMs: change.downMs })
          : log.warn(
            "redis connection lost; the API answers 503 and workers wait until it is back",
            {
              reason: change.reason,
            },
          ),
    });
    return {
      store,
      embedded: false,
      description: `redis ${redactUrl(config.redis.url)} prefix ${config.redis.prefix}`,
      close: () => store.close(),
    };
  }
  const dir = config.store.path;
  const release = await acquireStoreLock(dir);
  try {
    const store = SqliteStore.open(dir, {
      // A deleted or replaced store is noticed within a scheduler tick.
      watchMs: config.scheduler.tickMs,
      onFault: (change) => logFault(log, change),
    });
    return {
      store,
      embedded: true,
      description: `sqlite ${dir}`,
      close: async () => {
        await store.close();
        release();
      },
    };
  } catch (err) {
    release();
    log.error("cannot open the embedded store", { path: dir, error: err });
    throw err;
  }
}

/** Once per fault: ERROR when it begins, INFO when a disk fault ends. */
function logFault(log: Logger, change: FaultChange): void {
  if (change.error === null) {
    log.info("store writes reach the disk again; the API takes writes", { fault: change.kind });
    return;
  }
  const hint = change.openCopies?.length
    ? {
      rescue: `until un stops, the deleted files can be copied from ${
        change.openCopies.join(", ")
      } (as un.db and un.db-wal in a new store directory)`,
    }
    : {};
  log.error(change.error.message, { fault: change.kind, ...change.error.details, ...hint });
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, "//***@");
}
