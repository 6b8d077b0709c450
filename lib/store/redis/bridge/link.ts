/**
 * The Redis bridge of one process, as a plain object the bridge actor owns:
 * live delivery from other processes ({@link listen}) and, unless the process
 * only serves the API, the hooks consumer ({@link HookConsumer}). The outbound
 * side is the event log's own write: on Redis the log is the bridge's stream,
 * and the append publishes each batch on the channels in the same MULTI (see
 * lib/store/redis/events.ts), so each event is encoded once, and the event
 * log's buffer holds it through an outage. The link connects and
 * reconnects by itself and tells its host whether Redis is reachable; nothing
 * in it throws at the host.
 */

import { errorText } from "../../../errors.ts";
import type { Redis } from "ioredis";
import type { CloudEvent } from "../../../events/cloud-event.ts";
import type { HookRouting } from "../../../hooks/mod.ts";
import type { Logger } from "../../../log.ts";
import type { TaskRequest } from "../../../protocol/messages.ts";
import { type Following, listen } from "./broadcast.ts";
import { closeConnection, openConnection } from "./connections.ts";
import { ensureGroup, HookConsumer } from "./consumer.ts";
import { type BridgeKeys, bridgeKeys } from "./keys.ts";
import { SeenIds } from "./seen.ts";
import { Backoff, delay } from "./timing.ts";

/**
 * How long one event's enqueue may take before it counts as failed (and is retried later).
 */
export const ENQUEUE_TIMEOUT_MS = 10_000;
/** How long delivered event ids are remembered against duplicates on pub/sub, and how many. */
const SEEN_TTL_MS = 600_000;
const SEEN_MAX = 100_000;

/**
 * Options of a {@link BridgeLink}.
 */
export interface BridgeLinkOptions {
  url: string;
  prefix: string;
  /** This process's id: the `origin` it skips and its consumer name. */
  self: string;
  /** Join the consumer group and apply hooks. */
  consume: boolean;
  reclaimMs: number;
  minIdleMs: number;
  processedTtlMs: number;
  /** Test fault `no-ack`: read hook entries and drop them. */
  dropReads: boolean;
  /** Test fault `slow-follow`: each change of what this process follows waits this long first. */
  followDelayMs: number;
  log: Logger;
}

/**
 * What the link calls on the runtime side.
 */
export interface BridgeHost {
  /** An event from another process, for the local bus. */
  deliver(event: CloudEvent): void;
  /** This process's hooks (applied from the consumer group). */
  hooks: HookRouting;
  /** What this process follows of the others' events (delivered live). */
  following: Following;
  /** Enqueues one event's hook tasks; resolves once stored. */
  enqueue(requests: TaskRequest[]): Promise<unknown>;
  /** Redis became reachable (`true`) or not. */
  status(up: boolean, detail?: string): void;
}

interface Connections {
  writer: Redis;
  subscriber: Redis;
  reader: Redis | null;
}

/**
 * One process's bridge to Redis.
 *
 * @example
 * ```ts
 * const link = new BridgeLink(options);
 * link.start(host);
 * await link.close(2_000);
 * ```
 */
export class BridgeLink {
  readonly #keys: BridgeKeys;
  readonly #stopping = new AbortController();
  #connections: Connections | null = null;
  #host: BridgeHost | null = null;
  #consumer: HookConsumer | null = null;
  #up: boolean | null = null;
  #lastError = "";
  #closing: Promise<void> | null = null;
  #stopListening: () => void = () => {};

  constructor(private readonly options: BridgeLinkOptions) {
    this.#keys = bridgeKeys(options.prefix);
  }

  /** Connects (in the background) and starts delivering and consuming. */
  start(host: BridgeHost): void {
    if (this.#connections || this.#closing) return;
    this.#host = host;
    const { url, consume, log, self } = this.options;
    const writer = openConnection(url, "writer");
    const subscriber = openConnection(url, "subscriber");
    const reader = consume ? openConnection(url, "reader") : null;
    this.#connections = { writer, subscriber, reader };
    writer.on("error", (error: Error) => (this.#lastError = error.message));
    writer.on("ready", () => void this.#onReady(writer));
    writer.on("close", () => this.#report(false, this.#lastError || "connection to redis closed"));
    this.#stopListening = listen(subscriber, {
      keys: this.#keys,
      self,
      seen: new SeenIds(SEEN_TTL_MS, SEEN_MAX),
      log,
      following: host.following,
      deliver: (event) => this.#host?.deliver(event),
      history: writer,
      delayMs: this.options.followDelayMs,
    });
  }

  /**
   * Stops: the blocking read is cut, entries being applied get `timeoutMs` to
   * finish, then the connections are closed. Safe to call more than once.
   */
  close(timeoutMs: number): Promise<void> {
    this.#closing ??= this.#close(timeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#stopping.abort();
    this.#stopListening();
    this.#host = null;
    const connections = this.#connections;
    if (!connections) return;
    connections.reader?.disconnect();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#consumer?.settled(),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    await Promise.all([
      closeConnection(connections.writer, 1_000),
      closeConnection(connections.subscriber, 1_000),
    ]);
  }

  /** Each (re)connect: make sure the group exists, then consume. */
  async #onReady(writer: Redis): Promise<void> {
    const signal = this.#stopping.signal;
    const backoff = new Backoff();
    while (!signal.aborted && writer.status === "ready") {
      try {
        await ensureGroup(writer, this.#keys);
        break;
      } catch (error) {
        this.#report(false, error);
        await delay(backoff.next(), signal);
      }
    }
    if (signal.aborted || writer.status !== "ready") return;
    this.#report(true);
    this.#startConsumer(writer);
  }

  #startConsumer(writer: Redis): void {
    const reader = this.#connections?.reader;
    const host = this.#host;
    if (!reader || !host || this.#consumer) return;
    const { options } = this;
    this.#consumer = new HookConsumer({
      reader,
      apply: {
        redis: writer,
        keys: this.#keys,
        consumer: options.self,
        // An in-progress marker outlives one enqueue attempt, so nobody starts on the
        // event while its applier may still succeed.
        claimTtlMs: Math.max(options.minIdleMs, 2 * ENQUEUE_TIMEOUT_MS),
        processedTtlMs: options.processedTtlMs,
        log: options.log,
        hooks: host.hooks,
        enqueue: (requests) => host.enqueue(requests),
        signal: this.#stopping.signal,
      },
      reclaimMs: options.reclaimMs,
      minIdleMs: options.minIdleMs,
      drop: options.dropReads,
      signal: this.#stopping.signal,
    });
    this.#consumer.start();
  }

  /** Tells the host about a change between reachable and not (not about every write). */
  #report(up: boolean, error?: unknown): void {
    if (this.#stopping.signal.aborted || this.#up === up) return;
    this.#up = up;
    const detail = up ? undefined : errorText(error ?? "");
    if (up) this.options.log.info("bridge connected to redis", { prefix: this.options.prefix });
    else this.options.log.warn("bridge lost redis; events are held until it is back", { detail });
    this.#host?.status(up, detail);
  }
}
