/**
 * How the runtime's log tells the operator about event-log outages: one line
 * per report of the event log's `onStatus` (each report comes once per
 * outage, see lib/event-log.ts).
 */

import type { EventLogStatus } from "./event-log.ts";
import type { Logger } from "./log.ts";

/**
 * Logs one outage report of an `EventLog`.
 *
 * @example
 * ```ts
 * new EventLog(store, onError, { onStatus: (status) => logEventLogStatus(log, status) });
 * ```
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
