/**
 * Manual scans of a source (`POST /un/sources/:id/scan`, `POST /un/scan`):
 * a per-source limit (sliding window, `api.scanLimit`, default 5 per 5
 * minutes) and a bounded history, newest first. Both live in the source's
 * state in the store, so they survive a restart and are shared by every
 * process when the store is Redis; deleting the source forgets them.
 */

import { formatDuration } from "../duration.ts";
import { UnError } from "../errors.ts";
import { KeyedQueue } from "../keyed-queue.ts";
import type { Json } from "../events/cloud-event.ts";
import type { SourceStore } from "../store/types.ts";

/**
 * Source state key of the start times of the scans within the window.
 */
export const SCAN_WINDOW_KEY = "scanWindow";
/**
 * Source state key of the scan history.
 */
export const SCANS_KEY = "scans";
/**
 * How many scans the history keeps.
 */
export const MAX_SCAN_HISTORY = 100;

/**
 * `api.scanLimit`: at most `max` manual scans per source within `windowMs`.
 */
export interface ScanLimit {
  max: number;
  windowMs: number;
}

/**
 * One manual scan, as `GET /un/sources/:id/scans` lists it.
 */
export interface ScanRecord {
  /** When it was asked for (epoch ms). */
  at: number;
  /** Who asked: "api", "cli", ... */
  requestedBy: string;
  durationMs: number;
  /** Changes the scan found (events published), or null when it failed. */
  changes: number | null;
  error: string | null;
}

/**
 * Too many manual scans of one source: answer 429 with `Retry-After`.
 */
export class ScanRateLimitError extends UnError {
  constructor(readonly sourceId: string, limit: ScanLimit, readonly retryAfterMs: number) {
    super(
      "rate_limited",
      `source ${sourceId} was scanned ${limit.max} times within ${
        formatDuration(limit.windowMs)
      } ` +
        `(api.scanLimit); retry in ${Math.ceil(retryAfterMs / 1000)}s`,
      429,
      { sourceId, retryAfterMs, max: limit.max, windowMs: limit.windowMs },
    );
  }
}

/** Per-source queue so two requests in this process never read-modify-write the same list at once. */
const perSource = new KeyedQueue();

async function numbers(store: SourceStore, sourceId: string): Promise<number[]> {
  const value = await store.getSourceState(sourceId, SCAN_WINDOW_KEY);
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === "number") : [];
}

/**
 * Takes one of the source's manual-scan slots at `now`, or throws
 * {@link ScanRateLimitError} saying when the oldest slot frees up.
 */
export function reserveScan(
  store: SourceStore,
  sourceId: string,
  limit: ScanLimit,
  now: number,
): Promise<void> {
  return perSource.run(sourceId, async () => {
    const recent = (await numbers(store, sourceId)).filter((at) => at > now - limit.windowMs);
    if (recent.length >= limit.max) {
      const oldest = Math.min(...recent);
      throw new ScanRateLimitError(sourceId, limit, Math.max(1, oldest + limit.windowMs - now));
    }
    await store.setSourceState(sourceId, SCAN_WINDOW_KEY, [...recent, now]);
  });
}

/**
 * Gives back a slot taken at `at` (the scan never reached a scanner, so it
 * should not count).
 */
export function releaseScan(store: SourceStore, sourceId: string, at: number): Promise<void> {
  return perSource.run(sourceId, async () => {
    const slots = await numbers(store, sourceId);
    const index = slots.indexOf(at);
    if (index < 0) return;
    slots.splice(index, 1);
    await store.setSourceState(sourceId, SCAN_WINDOW_KEY, slots);
  });
}

/**
 * Adds a scan to the source's history (newest first, at most
 * {@link MAX_SCAN_HISTORY}).
 */
export function recordScan(
  store: SourceStore,
  sourceId: string,
  record: ScanRecord,
): Promise<void> {
  return perSource.run(sourceId, async () => {
    const history = await scanHistory(store, sourceId);
    const next = [record, ...history].sort((a, b) => b.at - a.at).slice(0, MAX_SCAN_HISTORY);
    await store.setSourceState(sourceId, SCANS_KEY, next as unknown as Json);
  });
}

/**
 * The source's manual scans, newest first.
 */
export async function scanHistory(store: SourceStore, sourceId: string): Promise<ScanRecord[]> {
  const value = await store.getSourceState(sourceId, SCANS_KEY);
  return Array.isArray(value) ? value as unknown as ScanRecord[] : [];
}
