/**
 * The scheduler's plan of schedules: which schedules run, the next
 * occurrence of each, and which due occurrences fire now. Pure functions of
 * the schedules in effect, their last runs and the time, so the scheduler
 * actor (actors/scheduler.ts) stays a loop of store calls.
 */

import type { ScheduleSpec } from "../config/schema.ts";
import type { ScheduleRun } from "../store/schedule-store.ts";
import type { ActiveSchedule } from "./manage.ts";
import { missedToFire, occurrences } from "./occurrences.ts";

/** One running schedule in the scheduler's plan. */
export interface PlannedSchedule {
  spec: ScheduleSpec;
  /** Changes when the definition or the pause switch does: the plan starts over then. */
  version: string;
  /** The first occurrence strictly after `time` (epoch ms), or null when there is none. */
  after(time: number): number | null;
  /** The next occurrence not fired yet. */
  next: number | null;
}

/** How far back a scan for missed occurrences goes, in occurrences (a minute cron: about 70 days). */
const MAX_STEPS = 100_000;

/**
 * The plan for the schedules in effect now: a schedule already planned keeps
 * its next occurrence; a paused or unparsable one is left out. A schedule
 * planned for the first time starts after its last run when the scheduler
 * has just started (`runs` given), so occurrences missed while no process
 * ran are found; else after its last change, or the scheduler's start.
 */
export function planSchedules(
  previous: readonly PlannedSchedule[],
  active: readonly ActiveSchedule[],
  runs: Readonly<Record<string, ScheduleRun>> | null,
  startedAt: number,
  catchUpMs: number,
  now: number,
): PlannedSchedule[] {
  const prior = new Map(previous.map((p) => [p.spec.id, p]));
  const plan: PlannedSchedule[] = [];
  for (const schedule of active) {
    if (schedule.spec === null || schedule.paused) continue;
    const version = `${schedule.updatedAt}:${JSON.stringify(schedule.spec)}`;
    const known = prior.get(schedule.id);
    if (known?.version === version) {
      plan.push({ ...known });
      continue;
    }
    const after = occurrences(schedule.spec);
    // After a start: from the last run (or the last change, when later: a
    // pause is not downtime); mid-run: from the change that made it new here.
    const lastRun = runs?.[schedule.id]?.tick;
    const since = lastRun === undefined && !schedule.updatedAt
      ? startedAt
      : Math.max(lastRun ?? 0, schedule.updatedAt);
    const anchor = runs !== null
      ? Math.min(since, startedAt)
      : Math.max(schedule.updatedAt, now - catchUpMs);
    plan.push({ spec: schedule.spec, version, after, next: after(anchor) });
  }
  return plan;
}

/** The occurrences of one schedule due at `now`, and where its plan goes once they fire. */
export interface DueOccurrences {
  /** Occurrences to claim and fire, oldest first; `catchUp` marks the missed ones the policy keeps. */
  fire: { tick: number; catchUp: boolean }[];
  /** The next occurrence after them. */
  next: number | null;
}

/**
 * The due occurrences of a planned schedule: on time (at most `catchUpMs`
 * late, and not before the scheduler started) ones all fire; missed ones
 * fire as the schedule's `catchUp` policy says.
 */
export function dueOccurrences(
  planned: PlannedSchedule,
  now: number,
  startedAt: number,
  catchUpMs: number,
): DueOccurrences {
  const missed: number[] = [];
  const fire: DueOccurrences["fire"] = [];
  let next = planned.next;
  for (let steps = 0; next !== null && next <= now; steps++) {
    if (steps === MAX_STEPS) {
      // Further back than any policy keeps: start again from the recent past.
      next = planned.after(now - catchUpMs - 1);
      continue;
    }
    const isMissed = now - next > catchUpMs || next < startedAt;
    if (isMissed) {
      missed.push(next);
      if (missed.length > planned.spec.catchUpMax) missed.shift();
    } else fire.push({ tick: next, catchUp: false });
    next = planned.after(next);
  }
  const caught = missedToFire(planned.spec, missed).map((tick) => ({ tick, catchUp: true }));
  return { fire: [...caught, ...fire], next };
}
