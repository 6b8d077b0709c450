/**
 * Faults of a Redis that answers but is not sound, which the outage watch
 * (connection.ts) cannot see: it refuses writes at `maxmemory` (here), or it
 * lost its data (epoch.ts). The store keeps them as state, so `ping()` (and
 * so `/health`) reports them while they last, and tells its listeners once
 * when each begins and ends (fault-report.ts).
 */

import type { Command, Redis } from "ioredis";
import { OutOfMemoryError, StoreFaultError } from "../../errors.ts";
import type { RedisContext } from "./context.ts";
import { EpochWatch } from "./epoch.ts";
import { isOutOfMemory } from "./errors.ts";
import {
  type AckResult,
  FaultListeners,
  type FaultReporting,
  type StoreFaultChange,
} from "./fault-report.ts";

/**
 * The faults of one Redis store: out of memory, and loss of data.
 */
export class RedisFaults implements FaultReporting {
  readonly #listeners = new FaultListeners();
  readonly oom: OutOfMemoryWatch;
  readonly epoch: EpochWatch;

  constructor(ctx: RedisContext) {
    this.oom = new OutOfMemoryWatch(ctx.redis, this.#listeners);
    this.epoch = new EpochWatch(ctx, this.#listeners);
  }

  /** Listens to fault changes (the first listener also hears those told before it came). */
  onFault(listener: (change: StoreFaultChange) => void): () => void {
    return this.#listeners.add(listener);
  }

  /** See {@link EpochWatch.ackReset}. */
  ackReset(): Promise<AckResult> {
    return this.epoch.ackReset();
  }

  /** Throws a {@link StoreFaultError} naming every fault present. */
  assertSound(): void {
    const reasons = [this.epoch.reason(), this.oom.reason()].filter((r): r is string => !!r);
    if (reasons.length > 0) throw new StoreFaultError(reasons);
  }
}

/**
 * Commands that always need memory (Redis refuses them at `maxmemory`), so
 * one that succeeds shows Redis takes writes again. The process heartbeat
 * (HSET) is one, every `scheduler.heartbeatMs`.
 */
const WRITES = new Set(["set", "hset", "xadd", "zadd", "incrby", "hincrby", "sadd"]);

/**
 * Follows every reply of one client for Redis's "OOM command not allowed"
 * refusal: the first makes the store out of memory (it then reads
 * `maxmemory` for the report), and the next write Redis takes (a command of
 * {@link WRITES}, or a MULTI: Redis refuses every command of one at
 * `maxmemory`) clears it. Watching the client itself sees every refusal,
 * whichever part of the store sent the command.
 */
export class OutOfMemoryWatch {
  #since: number | null = null;
  #maxmemory: number | null = null;
  /** The `oom` report (after its maxmemory look-up); `oom-cleared` follows it. */
  #told: Promise<void> = Promise.resolve();

  constructor(private readonly redis: Redis, private readonly listeners: FaultListeners) {
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = ((command: Command, ...rest: unknown[]) => {
      command.promise.then(
        () => {
          if ((WRITES.has(command.name) && !command.inTransaction) || command.name === "exec") {
            this.#accepted();
          }
        },
        (error: unknown) => isOutOfMemory(error) && this.#refused(),
      );
      return (send as (...args: unknown[]) => unknown)(command, ...rest);
    }) as Redis["sendCommand"];
  }

  /** True while Redis refuses writes. */
  get active(): boolean {
    return this.#since !== null;
  }

  /** The health problem while Redis refuses writes, else null. */
  reason(): string | null {
    if (this.#since === null) return null;
    const limit = this.#maxmemory === null ? "unknown" : `${this.#maxmemory} bytes`;
    return `Redis is out of memory (maxmemory ${limit}); creates and publishes answer 503 ` +
      "until memory is freed or maxmemory raised";
  }

  /** The error of a call refused before it reaches Redis, while Redis refuses writes. */
  error(op: string): OutOfMemoryError {
    return new OutOfMemoryError(
      `redis is out of memory (maxmemory reached); try again when /health is ok`,
      { op, reason: "oom" },
    );
  }

  #refused(): void {
    if (this.#since !== null) return;
    this.#since = Date.now();
    this.#told = this.#readLimit().then((maxmemory) => {
      this.#maxmemory = maxmemory;
      const limit = maxmemory === null ? "unknown" : `${maxmemory} bytes`;
      this.listeners.tell({
        kind: "oom",
        reason: `Redis is out of memory (maxmemory ${limit}); writes are refused`,
        maxmemory,
      });
    });
  }

  #accepted(): void {
    const since = this.#since;
    if (since === null) return;
    this.#since = null;
    this.#told = this.#told.then(() =>
      this.listeners.tell({ kind: "oom-cleared", downMs: Date.now() - since })
    );
  }

  /** `maxmemory` in bytes: CONFIG GET, or INFO where CONFIG is not allowed (managed Redis). */
  async #readLimit(): Promise<number | null> {
    try {
      const [, value] = await this.redis.config("GET", "maxmemory") as string[];
      if (value !== undefined) return Number(value);
    } catch {
      // CONFIG renamed or refused: INFO has it too.
    }
    try {
      const match = /^maxmemory:(\d+)/m.exec(await this.redis.info("memory"));
      return match ? Number(match[1]) : null;
    } catch {
      return null;
    }
  }
}
