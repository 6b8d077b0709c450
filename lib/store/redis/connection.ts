/**
 * The store's Redis connection: an ioredis client that fails fast while Redis
 * is away instead of queueing commands (callers — routes, workers, /health —
 * decide what an outage means for them), reconnects on its own within a
 * second of Redis coming back, and a watch that notes each outage once, when
 * the link goes and when it comes back, instead of once per failed command.
 */

import { Redis } from "ioredis";

/**
 * Reconnect attempts come every 100 ms for a second, then this often, so work
 * resumes within ~0.5 s of Redis coming back even after a long outage.
 */
export const RECONNECT_MAX_MS = 500;
/**
 * A command without a reply after this long fails (UnavailableError): a hung
 * or partitioned Redis must not hold a worker, a route or a shutdown forever.
 * Far above any script's run time, even on a loaded machine.
 */
export const COMMAND_TIMEOUT_MS = 10_000;
/** A connection attempt that takes longer fails and is retried. */
const CONNECT_TIMEOUT_MS = 2_000;
/**
 * How often a client rechecks a Redis that is loading its data after a restart.
 */
export const LOADING_RECHECK_MS = 100;

/**
 * Creates the store's client (not yet connected: call `connect()`).
 */
export function createClient(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    // Fail fast while disconnected instead of queueing: a command sent during
    // an outage is refused at once ("Stream isn't writeable"), and one in
    // flight when the link dropped fails after the first failed reconnect.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // Every 100 ms for the first second (a restart is over in that time),
    // then every RECONNECT_MAX_MS.
    retryStrategy: (attempt) => attempt <= 10 ? 100 : RECONNECT_MAX_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // A Redis loading its AOF after a restart reports an ETA (often several
    // seconds, and pessimistic); ioredis waits that long before it checks
    // again. Check often instead, so work resumes as soon as it has loaded.
    maxLoadingRetryTime: LOADING_RECHECK_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectionName: "un-store",
    // No auto-pipelining: claims and completes are grouped by the batcher,
    // whose two halves must reach Redis as separate writes (see batcher.ts).
    enableAutoPipelining: false,
  });
}

/**
 * What a {@link ConnectionWatch} reports: the link went down (once per
 * outage, with the first reason known) or came back (with how long it was down).
 */
export type ConnectionChange =
  | { up: false; reason: string }
  | { up: true; downMs: number };

/**
 * Follows a client's connection events: whether Redis is reachable now, why
 * not, and since when. ioredis emits an `error` per failed reconnect attempt;
 * this turns them into one change per outage (and keeps ioredis from printing
 * them: an `error` event without a listener is logged by ioredis itself).
 *
 * @example
 * ```ts
 * const watch = new ConnectionWatch(redis, (change) => console.log(change));
 * if (watch.downSince !== null) console.log(`redis down: ${watch.reason}`);
 * ```
 */
export class ConnectionWatch {
  #downSince: number | null = null;
  #reason: string | null = null;
  #closing = false;
  // Failures before the first "ready" are the open's to report (it throws).
  #opened = false;

  constructor(redis: Redis, private readonly onChange: (change: ConnectionChange) => void) {
    redis.on("error", (error: Error) => this.#lost(connectionReason(error)));
    // "close" comes first when Redis goes away; an "error" naming the cause
    // (ECONNRESET, then ECONNREFUSED on each reconnect) may or may not follow.
    redis.on("close", () => this.#lost(null));
    redis.on("ready", () => this.#back());
  }

  /** Epoch ms the current outage began, or null while connected. */
  get downSince(): number | null {
    return this.#downSince;
  }

  /** Why Redis is unreachable now (e.g. "connect ECONNREFUSED 127.0.0.1:6379"), or null while connected. */
  get reason(): string | null {
    return this.#downSince === null ? null : (this.#reason ?? "connection closed");
  }

  /** The store is closing: the connection's end is not an outage. */
  closing(): void {
    this.#closing = true;
  }

  #lost(reason: string | null): void {
    if (this.#closing || !this.#opened) return;
    if (reason !== null) this.#reason = reason;
    if (this.#downSince !== null) return;
    this.#downSince = Date.now();
    this.onChange({ up: false, reason: this.reason ?? "connection closed" });
  }

  #back(): void {
    this.#opened = true;
    if (this.#downSince === null) return;
    const downMs = Date.now() - this.#downSince;
    this.#downSince = null;
    this.#reason = null;
    this.onChange({ up: true, downMs });
  }
}

/** ioredis's own wording for "not connected" and friends, said plainly. */
const PLAIN_REASONS: ReadonlyArray<[RegExp, string]> = [
  [/^Stream isn't writeable/, "not connected"],
  [/^Connection is closed/, "connection closed"],
  [/^Reached the max retries per request/, "connection lost before the reply"],
  [/^Command aborted due to connection close/, "connection lost before the reply"],
  [/^Command timed out/, `no reply within ${COMMAND_TIMEOUT_MS}ms`],
];

/** Error codes of sockets that cannot reach, or lost, the server. */
const SOCKET_CODE = /^(E[A-Z]+|ERR_SOCKET_[A-Z_]+)$/;

/**
 * The reason a connection-level failure gives, in plain words, or null when
 * the error is not about the connection (a script's reply, a bug of ours).
 */
export function connectionReason(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  for (const [pattern, plain] of PLAIN_REASONS) {
    if (pattern.test(error.message)) return plain;
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && SOCKET_CODE.test(code)) return error.message || code;
  if (error.name === "AbortError" || error.name === "MaxRetriesPerRequestError") {
    return "connection lost before the reply";
  }
  return null;
}
