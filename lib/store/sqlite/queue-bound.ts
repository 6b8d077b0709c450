/**
 * Bounded queues on the embedded store: after a batch's inserts, inside the
 * same savepoint, each bounded queue the batch touched is counted (queued,
 * scheduled and retrying tasks); one past its bound throws QueueFullError and
 * the savepoint takes the batch back.
 *
 * The count reads two partial indexes by queue (`tasks_ready_by_queue`,
 * `tasks_pending_by_queue`) and stops at the bound, so it costs at most
 * `maxSize` index entries, and nothing at all for a queue without a bound:
 * no counter is kept by claim or completion, which stay as fast as before.
 */

import { QueueFullError } from "../../errors.ts";
import type { EnqueueResult } from "../types.ts";
import type { Sql } from "./statements.ts";

/** `state IN (...)` of the not-ready states a bound counts, as `tasks_pending_by_queue` spells it. */
export const PENDING_STATE_SQL = "state IN ('scheduled','retrying')";

const COUNT_SQL = `SELECT
  (SELECT COUNT(*) FROM (SELECT 1 FROM tasks WHERE queue = :queue AND state = 'queued' LIMIT :cap))
  + (SELECT COUNT(*) FROM (SELECT 1 FROM tasks WHERE queue = :queue AND ${PENDING_STATE_SQL} LIMIT :cap))
  AS size`;

const COUNTED = new Set(["queued", "scheduled", "retrying"]);

/**
 * Throws QueueFullError when a bounded queue holds more than its bound after
 * the batch's inserts; `size` in the error is what it held before them.
 */
export function checkQueueBounds(
  sql: Sql,
  results: readonly EnqueueResult[],
  maxSize: Readonly<Record<string, number>>,
): void {
  const added = new Map<string, number>();
  for (const { task, deduplicated } of results) {
    if (deduplicated || !COUNTED.has(task.state) || !Object.hasOwn(maxSize, task.queue)) continue;
    added.set(task.queue, (added.get(task.queue) ?? 0) + 1);
  }
  for (const [queue, count] of added) {
    const bound = maxSize[queue];
    const row = sql.get(COUNT_SQL, { queue, cap: bound + count });
    const size = Number(row?.size ?? 0);
    if (size > bound) throw new QueueFullError(queue, Math.max(0, size - count), bound);
  }
}
