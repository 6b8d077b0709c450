/**
 * Whether Redis still holds the data un wrote to it. On first use un writes
 * an epoch (`<prefix>epoch`, a ULID, SET only where none exists, so processes
 * starting together agree on one). Each process reads it when it opens the
 * store and checks it again after every reconnect and at every heartbeat: an
 * epoch that is gone or different means Redis lost its data (restarted
 * without AOF or RDB, FLUSHALL, failed over to an empty replica).
 *
 * The first process to see the loss writes a fresh epoch (so a second loss is
 * seen too) and the reset marker (`<prefix>epoch:reset`), which every process
 * reads with the epoch: all of them, and any that starts later, report the
 * same loss until an operator acknowledges it (`un store ack-reset`, which
 * stamps the marker; each process clears at its next check). The store is
 * empty, not broken, so work goes on meanwhile.
 */

import { ulid } from "ulid";
import { UnavailableError } from "../../errors.ts";
import { SerialQueue } from "../../keyed-queue.ts";
import type { RedisContext } from "./context.ts";
import { runScript } from "./context.ts";
import {
  type AckResult,
  type FaultListeners,
  resetReason,
  type StoreReset,
} from "./fault-report.ts";
import { asList } from "./replies.ts";

/**
 * Checks and remembers the epoch of one store.
 *
 * @example
 * ```ts
 * const epoch = new EpochWatch(ctx, listeners);
 * await epoch.check(); // at open, after a reconnect, at each heartbeat
 * epoch.reason(); // null, or "Redis lost its data (epoch changed at ...)..."
 * ```
 */
export class EpochWatch {
  /** The epoch this process knows; null before the first check. */
  #epoch: string | null = null;
  /** The reset marker of the current epoch, if there is one. */
  #reset: StoreReset | null = null;
  /** The epoch whose loss was told to the listeners (once each). */
  #told: string | null = null;
  /** Checks run one after the other (a heartbeat and a reconnect may overlap). */
  readonly #running = new SerialQueue();

  constructor(private readonly ctx: RedisContext, private readonly listeners: FaultListeners) {}

  /** The epoch this process knows, or null before its first check. */
  get epoch(): string | null {
    return this.#epoch;
  }

  /** The health problem while a loss of data waits for an acknowledgement, else null. */
  reason(): string | null {
    return this.#pending() ? resetReason(this.#reset!) : null;
  }

  /**
   * Reads the epoch (writing it on first use, or after a loss) and the reset
   * marker, and tells the listeners what changed. Rejects when Redis does not
   * answer; the next heartbeat tries again.
   */
  check(): Promise<void> {
    return this.#running.run(() => this.#check());
  }

  /**
   * Acknowledges the loss of the current epoch for every process: stamps the
   * marker, and clears this process at once (the others at their next check).
   */
  async ackReset(): Promise<AckResult> {
    const { keys } = this.ctx;
    const [current, marker] = asList(
      await runScript(this.ctx, "ackReset", [keys.epoch, keys.epochReset], [isoNow()], {
        op: "ackReset",
      }),
      "ackReset",
    ).map(String);
    const reset = parse(marker);
    if (reset === null) return { acknowledged: false, reset: null };
    if (current === this.#epoch) this.#update(reset);
    return { acknowledged: true, reset };
  }

  async #check(): Promise<void> {
    const { keys } = this.ctx;
    const known = this.#epoch ?? "";
    const reply = asList(
      await runScript(this.ctx, "epoch", [keys.epoch, keys.epochReset], [known, ulid(), isoNow()], {
        op: "checkEpoch",
      }),
      "checkEpoch",
    );
    const [current, marker] = [String(reply[0]), String(reply[1])];
    if (!current) throw new UnavailableError("redis did not return the store's epoch");
    const observed = known !== "" && current !== known;
    this.#epoch = current;
    const found = parse(marker);
    const reset = found?.epoch === current ? found : null;
    // Told once per loss: when this process saw it happen, or, starting
    // later, while it still waits for an acknowledgement.
    if (reset !== null && this.#told !== reset.epoch && (observed || !reset.ackedAt)) {
      this.#told = reset.epoch;
      this.#reset = reset;
      this.listeners.tell({
        kind: "reset",
        reset,
        reason: resetReason(reset),
        observed,
        announce: Number(reply[2]) === 1,
      });
      return;
    }
    this.#update(reset);
  }

  /** Takes the marker as read; a loss that was pending and is no longer is told as acknowledged. */
  #update(reset: StoreReset | null): void {
    const wasPending = this.#pending();
    const previous = this.#reset;
    this.#reset = reset;
    if (wasPending && !this.#pending()) {
      this.listeners.tell({ kind: "reset-acknowledged", reset: reset ?? previous! });
    }
  }

  #pending(): boolean {
    return this.#reset !== null && !this.#reset.ackedAt;
  }
}

function isoNow(): string {
  return new Date().toISOString();
}

/** The reset marker, or null when there is none (or it is not one of ours). */
function parse(json: string): StoreReset | null {
  if (!json) return null;
  try {
    const value = JSON.parse(json) as Partial<StoreReset> | null;
    return typeof value?.epoch === "string" && typeof value.at === "string"
      ? value as StoreReset
      : null;
  } catch {
    return null;
  }
}
