/**
 * Tasks finished per minute over the last hour, for the overview's sparkline.
 *
 * Started on the first dashboard request, not with the process: it fills the
 * hour from the event log once (`task.succeeded`, `task.failed`, `task.dead`,
 * at most {@link BACKFILL_LIMIT} of each), then counts live events from the
 * bus (on a cluster, every process's). A counter increment per finished task
 * is all it costs afterwards.
 */

import type { ControlPlane } from "../../lib/control.ts";
import type { CloudEvent } from "../../lib/events/cloud-event.ts";

const MINUTE = 60_000;
/** Buckets shown: one hour. */
export const BUCKETS = 60;
/** Events of each type read from the log when counting starts. */
export const BACKFILL_LIMIT = 20_000;
const FAILED = new Set(["task.failed", "task.dead"]);
/** Crockford base32, as ULIDs spell their time. */
const B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** The smallest ULID of a moment: events after it happened at or after that moment. */
function ulidAt(ms: number): string {
  let time = "";
  let rest = Math.floor(ms);
  for (let i = 0; i < 10; i++) {
    time = B32[rest % 32] + time;
    rest = Math.floor(rest / 32);
  }
  return time + "0".repeat(16);
}

/** What {@link Throughput.series} gives: per-minute counts, oldest first, and totals. */
export interface ThroughputSeries {
  ok: number[];
  bad: number[];
  okTotal: number;
  badTotal: number;
  /** The log held more than {@link BACKFILL_LIMIT} of a type: the first minutes count fewer. */
  partial: boolean;
}

/**
 * Per-minute counts of finished tasks.
 */
export class Throughput {
  /** minute number (epoch minutes) → [succeeded, failed] */
  #counts = new Map<number, [number, number]>();
  #started: Promise<void> | null = null;
  #partial = false;

  constructor(private readonly control: ControlPlane) {}

  /** The last hour, minute by minute, ending with the current minute. */
  async series(now = Date.now()): Promise<ThroughputSeries> {
    await (this.#started ??= this.#start(now));
    const last = Math.floor(now / MINUTE);
    const ok: number[] = [];
    const bad: number[] = [];
    for (let minute = last - BUCKETS + 1; minute <= last; minute++) {
      const [s, f] = this.#counts.get(minute) ?? [0, 0];
      ok.push(s);
      bad.push(f);
    }
    for (const minute of this.#counts.keys()) {
      if (minute <= last - BUCKETS) this.#counts.delete(minute);
    }
    const sum = (list: number[]) => list.reduce((a, b) => a + b, 0);
    return { ok, bad, okTotal: sum(ok), badTotal: sum(bad), partial: this.#partial };
  }

  #count(event: CloudEvent): void {
    const minute = Math.floor(Date.parse(event.time) / MINUTE);
    if (!Number.isFinite(minute)) return;
    const bucket = this.#counts.get(minute) ?? [0, 0];
    bucket[FAILED.has(event.type) ? 1 : 0]++;
    this.#counts.set(minute, bucket);
  }

  async #start(now: number): Promise<void> {
    // Live first, remembering ids, so an event both logged and heard counts once.
    const heard = new Set<string>();
    let backfilling = true;
    const listen = (event: CloudEvent) => {
      if (backfilling) heard.add(event.id);
      this.#count(event);
    };
    for (const type of ["task.succeeded", "task.failed", "task.dead"]) {
      this.control.subscribe(type, listen);
    }
    const after = ulidAt(now - BUCKETS * MINUTE);
    try {
      await this.control.eventsLogged();
      for (const type of ["task.succeeded", "task.failed", "task.dead"]) {
        const events = await this.control.store.eventHistory({
          type,
          after,
          limit: BACKFILL_LIMIT,
        });
        if (events.length >= BACKFILL_LIMIT) this.#partial = true;
        for (const event of events) if (!heard.has(event.id)) this.#count(event);
      }
    } catch {
      // The store failed (its fault shows on /health): count from now on, say it is partial.
      this.#partial = true;
    } finally {
      backfilling = false;
      heard.clear();
    }
  }
}
