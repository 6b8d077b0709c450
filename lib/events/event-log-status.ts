/**
 * A runtime's event log as the operator sees it: made from the config's
 * `events` section, with one log line per outage report of its `onStatus`
 * (each report comes once per outage, see lib/events/event-log.ts) and per batch it
 * had to drop.
 */

import type { Config } from "../config/load.ts";
import { EventLog, type EventLogStatus } from "./event-log.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/types.ts";

/**
 * The event log of a runtime, reporting to its log.
 */
export function runtimeEventLog(
  store: Store,
  log: Logger,
  events: Pick<Config["events"], "bufferMax" | "flushMs">,
): EventLog {
  return new EventLog(
    store,
    (error, count) => log.error("event log write failed; events dropped", { events: count, error }),
    {
      bufferMax: events.bufferMax,
      flushMs: events.flushMs,
      onStatus: (status) => logEventLogStatus(log, status),
    },
  );
}

/**
 * Logs one outage report of an `EventLog`.
 */
export function logEventLogStatus(log: Logger, status: EventLogStatus): void {
  switch (status.kind) {
    case "buffering":
      return log.warn("event log: the store refuses writes; buffering events until it takes them", {
        waiting: status.waiting,
        error: status.error,
      });
    case "dropping":
      return log.error("event log: buffer full; dropping events until the store is back", {
        bufferMax: status.bufferMax,
      });
    case "flushed":
      return log.info("event log: store back; buffered events written", {
        written: status.written,
        dropped: status.dropped,
        outageMs: status.outageMs,
      });
    case "lost":
      return log.error("event log: store still unreachable at shutdown; buffered events lost", {
        count: status.count,
        error: status.error,
      });
  }
}
