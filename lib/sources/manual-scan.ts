/**
 * Manual scans (`POST /un/sources/:id/scan`, `un scan`) run where the
 * source's scanner runs. In one process that is here. With several processes
 * on one Redis only the holder of the source's lease scans it, so a process
 * without that scanner (an `api` role, say) asks the holder over the bus: a
 * `scan.requested` event, answered by the holder's `scan.completed` carrying
 * the same `requestId`. Either way the scan is recorded once, by the process
 * that ran it.
 */

import type { ControlWith } from "../control.ts";
import type { Coordination, SourceStore } from "../store/types.ts";
import { errorText, UnavailableError } from "../errors.ts";
import {
  createEvent,
  EVENT_PRIORITIES,
  type EventPriority,
  type Json,
  newId,
  sourceUri,
} from "../events/cloud-event.ts";
import { ask } from "../protocol/ask.ts";
import { sourceLease } from "./lease.ts";
import { recordScan, SCAN_WINDOW_KEY, type ScanLimit, type ScanRecord } from "./scan-history.ts";

/**
 * How long a manual scan may take (a large directory, a slow feed).
 */
export const SCAN_TIMEOUT_MS = 120_000;

/**
 * One manual scan to run.
 */
export interface ScanAsk {
  sourceId: string;
  requestedBy: string;
  /** When it was asked for (epoch ms): the rate limit's reservation. */
  at: number;
  /** Set when another process asked: its answer carries it back. */
  requestId?: string;
  /** The priority of the events the scan finds. */
  priority: EventPriority;
}

/**
 * The more urgent of two priorities (undefined: none asked), for scans that
 * join one already queued.
 *
 * @example
 * ```ts
 * higherPriority("normal", "high"); // "high"
 * higherPriority(undefined, "low"); // "low"
 * ```
 */
export function higherPriority(
  a: EventPriority | undefined,
  b: EventPriority | undefined,
): EventPriority | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return EVENT_PRIORITIES.indexOf(a) <= EVENT_PRIORITIES.indexOf(b) ? a : b;
}

/** True when `error` says this process runs no scanner of `sourceId`. */
export function noScannerHere(error: unknown, sourceId: string): boolean {
  return error instanceof UnavailableError && error.details.actor === `source:${sourceId}`;
}

/**
 * Runs the scan on this process's scanner, records it and publishes
 * `scan.completed`. A scan that ran and failed is returned with its `error`
 * set; throws UnavailableError (see {@link noScannerHere}) when no scanner of
 * the source runs here.
 */
export async function scanHere(
  control: ControlWith<SourceStore & Coordination>,
  scan: ScanAsk,
): Promise<ScanRecord> {
  const { sourceId, requestedBy, at, priority } = scan;
  const started = performance.now();
  let record: ScanRecord;
  try {
    const request = { sourceId, requestedBy, priority };
    const { changes } = await ask(control, "source.scan", { request }, {
      timeoutMs: SCAN_TIMEOUT_MS,
    });
    record = { at, requestedBy, durationMs: elapsed(started), changes, error: null };
  } catch (err) {
    if (noScannerHere(err, sourceId)) throw err;
    record = {
      at,
      requestedBy,
      durationMs: elapsed(started),
      changes: null,
      error: errorText(err),
    };
  }
  await recordScan(control.store, sourceId, record);
  const data: Record<string, Json> = { ...record };
  if (scan.requestId) data.requestId = scan.requestId;
  control.send({
    type: "event.publish",
    event: createEvent({
      type: "scan.completed",
      source: sourceUri(sourceId),
      subject: sourceId,
      data,
      priority: "low",
    }),
  });
  return record;
}

/**
 * The process that scans a source now, when it is another one; null when it
 * is this one or nobody (no process with scanners runs, or the source's
 * lease ran out and is being taken over).
 */
export async function scannerElsewhere(
  control: ControlWith<SourceStore & Coordination>,
  sourceId: string,
): Promise<string | null> {
  const holding = await control.store.leaseHolder(sourceLease(sourceId), Date.now());
  return holding === null || holding.holder === control.processId ? null : holding.holder;
}

/**
 * Asks `holder`, the process that scans the source, to scan it now, and waits
 * for its answer. Throws UnavailableError when none comes within
 * {@link SCAN_TIMEOUT_MS} (the holder died: its successor takes the source
 * within one lease period, so trying again then works).
 */
export async function scanElsewhere(
  control: ControlWith<SourceStore & Coordination>,
  scan: ScanAsk,
  holder: string,
): Promise<ScanRecord> {
  const requestId = newId();
  let off = () => {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  const answered = new Promise<ScanRecord>((resolve, reject) => {
    off = control.subscribe("scan.completed", (event) => {
      const data = event.data as (ScanRecord & { requestId?: string }) | null;
      if (event.subject !== scan.sourceId || data?.requestId !== requestId) return;
      const { requestId: _, ...record } = data;
      resolve(record);
    });
    timer = setTimeout(() =>
      reject(
        new UnavailableError(
          `process ${holder}, which scans source ${scan.sourceId}, did not answer the scan ` +
            `request within ${SCAN_TIMEOUT_MS / 1000}s; try again`,
          { sourceId: scan.sourceId, holder },
        ),
      ), SCAN_TIMEOUT_MS);
  });
  try {
    // The answer may come from another process: hear it before asking.
    await control.subscribed();
    control.send({
      type: "event.publish",
      event: createEvent({
        type: "scan.requested",
        source: sourceUri(scan.sourceId),
        subject: scan.sourceId,
        data: {
          requestId,
          requestedBy: scan.requestedBy,
          at: scan.at,
          holder,
          priority: scan.priority,
        },
        priority: "high",
      }),
    });
    return await answered;
  } finally {
    clearTimeout(timer);
    off();
  }
}

/**
 * Answers the `scan.requested` of other processes that name this one as the
 * source's holder; returns how to stop.
 */
export function answerScanRequests(control: ControlWith<SourceStore & Coordination>): () => void {
  return control.subscribe("scan.requested", (event) => {
    const data = event.data as {
      requestId?: unknown;
      requestedBy?: unknown;
      at?: unknown;
      holder?: unknown;
      priority?: unknown;
    };
    // Only the process asked: during a takeover two may briefly run the scanner.
    if (!event.subject || typeof data?.requestId !== "string") return;
    if (data.holder !== control.processId) return;
    const scan: ScanAsk = {
      sourceId: event.subject,
      requestId: data.requestId,
      requestedBy: typeof data.requestedBy === "string" ? data.requestedBy : "api",
      at: typeof data.at === "number" ? data.at : Date.now(),
      priority: EVENT_PRIORITIES.find((p) => p === data.priority) ?? "high",
    };
    scanHere(control, scan).then(
      (record) =>
        control.log.info("scanned a source for another process", {
          source: scan.sourceId,
          requestedBy: scan.requestedBy,
          from: event.origin,
          changes: record.changes,
        }),
      (error) => {
        if (noScannerHere(error, scan.sourceId)) return;
        control.log.warn("could not answer a scan request", {
          source: scan.sourceId,
          from: event.origin,
          error,
        });
      },
    );
  });
}

/** How many manual scans a source has left in the rate limit's window (`GET /un/sources/:id`). */
export interface ScanAllowance {
  /** Scans that may still be asked for now. */
  left: number;
  max: number;
  windowMs: number;
  /** When the next slot frees up (ms from now); null while none is taken. */
  nextSlotInMs: number | null;
}

/**
 * The manual scans left to a source now under `api.scanLimit`, read from
 * the same window the limit keeps (scan-history.ts `reserveScan`).
 *
 * @example
 * ```ts
 * const { left } = await scanAllowance(store, "news", config.api.scanLimit, Date.now());
 * ```
 */
export async function scanAllowance(
  store: Pick<SourceStore, "getSourceState">,
  sourceId: string,
  limit: ScanLimit,
  now: number,
): Promise<ScanAllowance> {
  const value = await store.getSourceState(sourceId, SCAN_WINDOW_KEY);
  const taken = (Array.isArray(value) ? value : [])
    .filter((at): at is number => typeof at === "number" && at > now - limit.windowMs);
  return {
    left: Math.max(0, limit.max - taken.length),
    max: limit.max,
    windowMs: limit.windowMs,
    nextSlotInMs: taken.length ? Math.max(0, Math.min(...taken) + limit.windowMs - now) : null,
  };
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
