/**
 * When a schedule fires: its occurrence function (pure in time, so every
 * process computes the same occurrences, the claim keys), its next fire
 * times, and which missed occurrences its `catchUp` policy fires.
 */

import { Cron } from "croner";
import type { ScheduleSpec } from "../config/schema.ts";

/** The part of a schedule that says when it fires. */
export type ScheduleTiming = Pick<ScheduleSpec, "cron" | "every" | "timezone">;

/**
 * The occurrence function of a schedule: the first occurrence strictly after
 * `time` (epoch ms), or null when there is none.
 *
 * @example
 * ```ts
 * occurrences({ every: 1_000 })(1_500); // 2000
 * ```
 */
export function occurrences(spec: ScheduleTiming): (time: number) => number | null {
  if (spec.every !== undefined) {
    const every = spec.every;
    return (time) => (Math.floor(time / every) + 1) * every;
  }
  const cron = new Cron(spec.cron ?? "", { paused: true, timezone: spec.timezone });
  return (time) => cron.nextRun(new Date(time))?.getTime() ?? null;
}

/** The next `count` occurrences after `from` (croner's `nextRuns` for cron schedules). */
export function nextRuns(spec: ScheduleTiming, from: number, count: number): number[] {
  if (spec.cron !== undefined) {
    const cron = new Cron(spec.cron, { paused: true, timezone: spec.timezone });
    return cron.nextRuns(count, new Date(from)).map((d) => d.getTime());
  }
  const after = occurrences(spec);
  const out: number[] = [];
  for (let t = after(from); t !== null && out.length < count; t = after(t)) out.push(t);
  return out;
}

/** The missed-fire policy of a schedule. */
export type CatchUp = Pick<ScheduleSpec, "catchUp" | "catchUpMax">;

/**
 * Of the occurrences missed (oldest first), the ones the policy fires:
 * none, the latest one, or the latest `catchUpMax`.
 *
 * @example
 * ```ts
 * missedToFire({ catchUp: "one", catchUpMax: 10 }, [1, 2, 3]); // [3]
 * ```
 */
export function missedToFire(policy: CatchUp, missed: readonly number[]): number[] {
  if (missed.length === 0 || policy.catchUp === "none") return [];
  if (policy.catchUp === "one") return [missed[missed.length - 1]];
  return missed.slice(-policy.catchUpMax);
}
