/**
 * The contract every scanner actor (one per source, `actors/*-scanner.ts`) keeps:
 *
 * - It is XState actor logic whose input is {@link ScannerInput}.
 * - It publishes each change as a CloudEvent (`createEvent` with
 *   `source: sourceUri(id)` and the source's `priority`) by sending
 *   `{ type: "event.publish", event }` to the supervisor
 *   (`system.get("supervisor")`); it never touches the bus directly.
 * - It answers `{ type: "source.scan", request, reply }` by scanning now and
 *   settling `reply` with `{ changes }` (or rejecting with the error).
 * - On `{ type: "debug.crash" }` it throws from an action (test fault hook), so
 *   the supervisor sees a crash and restarts it.
 * - A failing poll does not crash it: it backs off and records a
 *   {@link SourceStatus} under the source state key `"status"`; a fault it
 *   cannot recover from is thrown, and the supervisor restarts it.
 * - Stopping it releases every watcher, timer and connection.
 */

import type { ScanLease } from "./lease.ts";
import type { SourceSpec } from "../config/load.ts";
import type { RuntimeDeps } from "../protocol/deps.ts";
import type { Coordination, SourceStore } from "../store/types.ts";

/** Input of a scanner actor. */
export interface ScannerInput {
  deps: RuntimeDeps<SourceStore & Coordination>;
  source: SourceSpec;
  /** In a cluster: the source lease it runs under (a scanner refuses its work once it moved). */
  lease?: ScanLease;
}

/** What `GET /un/sources` shows of a source's health, kept in source state `"status"`. */
export interface SourceStatus {
  lastScanAt: number | null;
  lastChangeAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  /** Consecutive failures (0 when the last poll worked). */
  failures: number;
  /** When the next poll is due (backoff included), if polling. */
  nextPollAt: number | null;
}

/** Source state key under which a scanner keeps its {@link SourceStatus}. */
export const STATUS_KEY = "status";

/**
 * The status of a source nothing has been learned about yet.
 */
export const EMPTY_STATUS: Readonly<SourceStatus> = Object.freeze({
  lastScanAt: null,
  lastChangeAt: null,
  lastError: null,
  lastErrorAt: null,
  failures: 0,
  nextPollAt: null,
});
