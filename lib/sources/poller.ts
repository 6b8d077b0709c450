/**
 * The shared shape of the polling sources (feed, GitHub, HTTP endpoint): a
 * {@link Poller} is a plain object one factory per kind makes; the generic
 * scanner actor (`actors/poll-scanner.ts`) drives it on the source's interval,
 * turns its changes into CloudEvents and backs off when it fails.
 *
 * Also the small helpers every poller needs: a state facade over the store,
 * the request itself, the backoff rule, `Retry-After` parsing, a size-capped
 * body read and sha256.
 */

import {
  type CloudEvent,
  createEvent,
  type EventPriority,
  type Json,
  sourceUri,
} from "../events/cloud-event.ts";
import { safeFetch, type SafeFetchOptions } from "../safety/safe-fetch.ts";
import type { SourceStore } from "../store/types.ts";
import { backoffMs } from "../backoff.ts";

/** One change a poll found; the actor wraps it in a CloudEvent. */
export interface PollChange {
  /** CloudEvent type, e.g. `feed.item.new`. */
  type: string;
  /** CloudEvent subject (a link, a repo, a URL). */
  subject?: string;
  data: Json;
}

/** What one poll found. */
export interface PollResult {
  changes: PollChange[];
  /**
   * The server asked us to wait this long before the next request (a
   * rate-limit reset): the next poll comes no sooner.
   */
  retryAfterMs?: number;
  /**
   * The poll worked but found the watched thing unhealthy (an HTTP endpoint
   * that is down): shown as `lastError` in the status, without backoff, since
   * noticing the recovery quickly is the point of polling it.
   */
  problem?: string;
  /**
   * Saves what this poll learned (seen ids, ETag, baseline). The actor calls
   * it only after the supervisor has logged the events, so a crash in between
   * repeats a change rather than losing it (at-least-once).
   */
  commit?: () => Promise<void>;
}

/** A source that is asked, on an interval, what changed. */
export interface Poller {
  /** Polls once. Throws (ideally a {@link PollError}) when the source cannot be read. */
  poll(signal: AbortSignal): Promise<PollResult>;
}

/**
 * Makes the {@link Poller} of one kind of source. With `allow` (`http.allow`,
 * for a source added at run time) each poll checks its URL and every
 * redirect; null polls unchecked.
 */
export type PollerFactory<S> = (
  source: S,
  state: SourceState,
  allow: readonly string[] | null,
) => Poller;

/** Small JSON values a poller keeps between polls and restarts, per source. */
export interface SourceState {
  /** The value saved under `key`, as the caller's type (the caller wrote it), or null. */
  get<T = Json>(key: string): Promise<T | null>;
  set(key: string, value: Json | null): Promise<void>;
}

/**
 * A poll that failed in a way the server described: the status, and how long
 * it asked us to wait (`Retry-After`, rate-limit reset), if it did.
 */
export class PollError extends Error {
  readonly status: number | null;
  readonly retryAfterMs: number | null;

  constructor(message: string, options: { status?: number; retryAfterMs?: number | null } = {}) {
    super(message);
    this.name = "PollError";
    this.status = options.status ?? null;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

/** Poll interval of each polling kind when the source sets none. */
export const DEFAULT_INTERVAL_MS: Readonly<Record<string, number>> = {
  feed: 5 * 60_000,
  github: 5 * 60_000,
  http: 60_000,
};

/** Longest wait between polls of a failing source (unless its interval is longer). */
export const MAX_BACKOFF_MS = 3_600_000;

/** Longest body a poller reads; a bigger answer is a failed poll, not an out-of-memory. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** `User-Agent` of every poll request (GitHub refuses requests without one). */
export const USER_AGENT = "un-reflex-runtime (+https://github.com/un)";

/**
 * The get/set facade a poller uses, over `store.getSourceState/setSourceState`.
 */
export function sourceState(store: SourceStore, sourceId: string): SourceState {
  return {
    get: async <T = Json>(key: string) => (await store.getSourceState(sourceId, key)) as T | null,
    set: (key, value) => store.setSourceState(sourceId, key, value),
  };
}

/**
 * Sends a poll's request: our `User-Agent` unless `headers` names one, through
 * safeFetch, so `allow` (see {@link PollerFactory}) checks the URL and every
 * redirect, and `field` names the source field that holds the URL when it is
 * refused.
 */
export function pollRequest(
  url: string,
  init: { method?: string; headers?: HeadersInit },
  check: SafeFetchOptions,
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("user-agent")) headers.set("User-Agent", USER_AGENT);
  return safeFetch(url, { method: init.method ?? "GET", headers }, check);
}

/**
 * The failed poll a refused answer makes (its body is let go unread): throw it.
 */
export async function refusedAnswer(
  response: Response,
  message: string,
  retryAfterMs: number | null = null,
): Promise<PollError> {
  await response.body?.cancel();
  return new PollError(message, { status: response.status, retryAfterMs });
}

/**
 * Delay before the next poll after `failures` consecutive failures:
 * `interval · 2^failures`, capped at one hour (or the interval, if longer).
 */
export function backoffDelay(intervalMs: number, failures: number): number {
  // The interval itself is the wait after no failure, hence `failures + 1`.
  return backoffMs(failures + 1, {
    baseMs: intervalMs,
    maxMs: Math.max(intervalMs, MAX_BACKOFF_MS),
  });
}

/**
 * Reads `Retry-After` (seconds or an HTTP date) as milliseconds from `now`.
 */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null || value.trim() === "") return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * Reads a response body, refusing more than `maxBytes` (the stream is
 * cancelled, so a huge or endless answer costs no memory).
 */
export async function readBody(response: Response, maxBytes = MAX_BODY_BYTES): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0);
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) {
    await response.body.cancel();
    throw new PollError(`response of ${declared} bytes is over the ${maxBytes}-byte limit`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      // Leaving a for-await loop early cancels the stream.
      throw new PollError(`response is over the ${maxBytes}-byte limit`);
    }
    chunks.push(chunk);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * Hex sha256 of bytes or of a string's UTF-8.
 */
export async function sha256Hex(input: Uint8Array | string): Promise<string> {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Puts `fresh` ids first and keeps at most `max` ids, dropping the oldest; the
 * bounded "seen" lists of the pollers and webhook dedupe.
 *
 * @example
 * ```ts
 * boundedUnion(["c"], ["a", "b"], 2); // ["c", "a"]
 * ```
 */
export function boundedUnion(fresh: string[], known: string[], max: number): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const id of [...fresh, ...known]) {
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(id);
    if (out.length >= max) break;
  }
  return out;
}

/**
 * The CloudEvent of a change of a source: `source` is `/un/sources/<id>`,
 * `priority` the source's.
 */
export function changeEvent(
  source: { id: string; priority: EventPriority },
  change: PollChange,
): CloudEvent {
  return createEvent({
    type: change.type,
    source: sourceUri(source.id),
    ...(change.subject !== undefined ? { subject: change.subject } : {}),
    data: change.data,
    priority: source.priority,
  });
}
