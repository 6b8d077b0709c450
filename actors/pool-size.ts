/**
 * How many workers the pool keeps: `concurrency`, plus one stand-in for each
 * worker whose task waits for its children (`ctx.waitForChildren`). A waiting
 * parent does no work, so its slot is lent out: without that, a pool whose
 * every worker holds a waiting parent could never run the children they wait
 * for. The stand-ins are bounded ({@link MAX_STAND_INS}); past the bound a
 * waiting parent keeps its slot.
 */

import { type WorkerRef, workersOf } from "./pool-drain.ts";

/** Most stand-ins at once: each is a worker actor, and parents can nest. */
export const MAX_STAND_INS = 1_000;

/** How many workers the pool should have. */
export function workerTarget(concurrency: number, parked: number): number {
  return concurrency + Math.min(Math.max(0, parked), MAX_STAND_INS);
}

/**
 * Brings the pool's active (not retiring) workers to `target`: returns how
 * many to spawn; the extra ones are told to retire, idle ones first (a busy
 * one finishes its task, then stops).
 */
export function resizeWorkers(pool: Parameters<typeof workersOf>[0], target: number): number {
  const active = workersOf(pool).filter((w) => !w.getSnapshot().context.retiring);
  if (target >= active.length) return target - active.length;
  const busy = (w: WorkerRef) => Number(w.getSnapshot().value === "running");
  const order = [...active].sort((a, b) => busy(a) - busy(b));
  for (const w of order.slice(0, active.length - target)) w.send({ type: "retire" });
  return 0;
}
