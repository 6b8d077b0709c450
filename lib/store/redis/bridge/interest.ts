/**
 * Who follows which event types, so a process publishes on pub/sub only what
 * some process listens to. Every process with the bridge keeps the event-type
 * patterns it follows in one hash (`<prefix>bridge:interest`, field = process
 * id), and every publisher reads that hash a few times a second, with Redis's
 * own count of pattern subscriptions and its list of subscribed channels: a
 * batch of a type nobody follows is written to the log (the stream) and not
 * published, which spares both sides the bytes of every task lifecycle event
 * when nothing watches those (most of the time, most of the events).
 *
 * This module is the followers' side; the publishers' is lib/store/redis/bridge/gate.ts.
 * Nothing is lost to a late read: a process that starts following a pattern
 * reads the log once every publisher must have read the hash again, and
 * delivers what it had not got since it was asked to follow. A subscriber
 * from outside (`redis-cli PSUBSCRIBE`) shows in Redis's count, and then
 * everything is published; one on an exact channel is in Redis's list, and
 * its type is.
 */

import type { Redis } from "ioredis";
import type { Logger } from "../../../log.ts";
import { compilePattern, type TypeMatcher } from "../../../events/wildcard.ts";
import type { BridgeKeys } from "./keys.ts";
import { timeReplyMs } from "./wire.ts";
import { Backoff, delay } from "./timing.ts";

/** How often a publisher reads who follows what. */
export const GATE_REFRESH_MS = 250;
/**
 * How long a read stays good: past this without a newer one (Redis away, a
 * slow read), a publisher publishes everything. A new follower's catch-up
 * waits longer than this, so it covers what any publisher skipped.
 */
export const GATE_VALID_MS = 1_000;
/** The longest {@link FollowerInterest.read} waits, when the entry cannot be written. */
const READ_WAIT_MAX_MS = 5 * GATE_VALID_MS;
/** A process renews its entry this often. */
export const INTEREST_RENEW_MS = 10_000;
/** An entry older than this is a dead process's: its patterns no longer count. */
export const INTEREST_TTL_MS = 30_000;
/** A dead process's entry is removed after this. */
export const PRUNE_AFTER_MS = 3_600_000;

/**
 * One process's entry in the hash.
 */
export interface InterestEntry {
  patterns: string[];
  /** When it was written, on Redis's clock (ms): the same for every machine. */
  at: number;
}

/**
 * Writes (or, with no patterns, removes) this process's entry.
 */
export async function registerInterest(
  redis: Redis,
  keys: BridgeKeys,
  self: string,
  patterns: string[],
): Promise<void> {
  if (patterns.length === 0) {
    await redis.hdel(keys.interest, self);
    return;
  }
  const entry: InterestEntry = { patterns, at: timeReplyMs(await redis.time()) };
  await redis.hset(keys.interest, self, JSON.stringify(entry));
}

/**
 * One entry of the hash, or null when it is not one.
 */
export function parseEntry(json: string): InterestEntry | null {
  try {
    const entry = JSON.parse(json) as Partial<InterestEntry>;
    if (!Array.isArray(entry.patterns) || typeof entry.at !== "number") return null;
    return { patterns: entry.patterns.filter((p) => typeof p === "string"), at: entry.at };
  } catch {
    return null;
  }
}

/**
 * Options of a {@link FollowerInterest}.
 */
export interface FollowerInterestOptions {
  /** A connection not in subscriber mode. */
  writer: Redis;
  keys: BridgeKeys;
  self: string;
  log: Logger;
  /** The event-type patterns this process follows now. */
  patterns(): string[];
  /**
   * Reads the log from `since` (this process's clock, ms) and delivers the
   * events `wants` takes that were not delivered yet; resolves with how many
   * it delivered.
   */
  catchUp(since: number, wants: TypeMatcher): Promise<number>;
}

/**
 * This process's entry in the interest hash: written whenever what it
 * follows changes, renewed every {@link INTEREST_RENEW_MS}, written again after
 * a reconnect, removed on close. For each pattern it starts to follow, once
 * the entry is written and every publisher must have read it (or given up on
 * an old read), it catches up from the log.
 *
 * @example
 * ```ts
 * const interest = new FollowerInterest(options);
 * const askedAt = Date.now();
 * await sub.psubscribe("un:events:deploy.*");
 * await interest.changed(["deploy.*"], askedAt);
 * await interest.read(); // publishers know now
 * interest.close();
 * ```
 */
export class FollowerInterest {
  readonly #stopping = new AbortController();
  /** Catch-ups that wait for the entry to be written. */
  #waiting: { since: number; wants: TypeMatcher }[] = [];
  /** When the latest {@link changed} was written (this process's clock). */
  #written: Promise<number> = Promise.resolve(0);
  #writing: Promise<void> | null = null;
  #again = false;
  readonly #renewal: ReturnType<typeof setInterval>;

  constructor(private readonly options: FollowerInterestOptions) {
    this.#renewal = setInterval(() => void this.#write(), INTEREST_RENEW_MS);
  }

  /**
   * What this process follows changed; `added` were asked for at `since`
   * (this process's clock, ms): their catch-up reads the log from then, so an
   * event made after the ask and before the subscription took effect is
   * delivered too. Resolves once the entry is written (or after
   * {@link GATE_VALID_MS} of trying: it is retried in the background).
   */
  async changed(added: string[], since: number): Promise<void> {
    if (added.length) this.#waiting.push({ since, wants: anyOf(added) });
    const written = this.#write().then(() => Date.now());
    this.#written = written;
    await Promise.race([written, delay(GATE_VALID_MS, this.#stopping.signal)]);
  }

  /**
   * Resolves once no publisher can still skip what {@link changed} wrote: a
   * publisher trusts a read for {@link GATE_VALID_MS} from when it asked, so
   * by then every read from before the write has run out. Waiting for the
   * next read instead (about {@link GATE_REFRESH_MS}) held only while every
   * publisher's timer ran on time: on a busy machine an event made after the
   * wait could still be skipped, and then came from the catch-up after a
   * later event that went out live (a stream saw "end" before "ping").
   */
  read(): Promise<void> {
    // Counted from when the entry was written, not from when it was asked for:
    // on a busy machine the write itself can take longer than a read stays
    // good. Bounded, so an outage does not hold a subscription for ever.
    const signal = this.#stopping.signal;
    const afterWrite = this.#written.then((at) =>
      delay(Math.max(0, at + GATE_VALID_MS - Date.now()), signal)
    );
    return Promise.race([afterWrite, delay(READ_WAIT_MAX_MS, signal)]);
  }

  /** Written again (after a reconnect). */
  rewrite(): void {
    void this.#write();
  }

  /** Stops renewing and removes the entry (best effort). */
  close(): void {
    this.#stopping.abort();
    clearInterval(this.#renewal);
    const { writer, keys, self } = this.options;
    writer.hdel(keys.interest, self).catch(() => {});
  }

  /** Writes the entry; one write at a time, the latest patterns win. */
  #write(): Promise<void> {
    if (this.#writing) {
      this.#again = true;
      return this.#writing;
    }
    this.#writing = (async () => {
      const backoff = new Backoff(200, INTEREST_RENEW_MS);
      const { writer, keys, self, log } = this.options;
      do {
        this.#again = false;
        const waiting = this.#waiting;
        this.#waiting = [];
        try {
          await registerInterest(writer, keys, self, this.options.patterns());
          for (const one of waiting) this.#catchUpLater(one.since, one.wants);
          backoff.reset();
        } catch (error) {
          if (this.#stopping.signal.aborted) return;
          this.#waiting.unshift(...waiting);
          if (backoff.failures === 0) {
            log.warn("could not tell other processes what this one follows; retrying", { error });
          }
          await delay(backoff.next(), this.#stopping.signal);
          this.#again = true;
        }
      } while (this.#again && !this.#stopping.signal.aborted);
    })().finally(() => (this.#writing = null));
    return this.#writing;
  }

  /** Once every publisher has read the entry or given up on an older read: the log since `since`. */
  #catchUpLater(since: number, wants: TypeMatcher): void {
    const { catchUp, log } = this.options;
    const signal = this.#stopping.signal;
    void delay(GATE_VALID_MS + 2 * GATE_REFRESH_MS, signal).then(async () => {
      if (signal.aborted) return;
      try {
        const delivered = await catchUp(since, wants);
        if (delivered) log.debug("caught up from the log on a new subscription", { delivered });
      } catch (error) {
        log.warn("could not catch up from the log on a new subscription", { error });
      }
    });
  }
}

function anyOf(patterns: string[]): TypeMatcher {
  const matchers = patterns.map(compilePattern);
  return (type) => matchers.some((matches) => matches(type));
}
