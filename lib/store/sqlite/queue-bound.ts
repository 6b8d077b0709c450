/**
 * Bounded queues on the embedded store: after a batch's inserts, inside the
 * same savepoint, each bounded queue the batch touched is counted (queued,
 * scheduled and retrying tasks). One past its bound either throws
 * QueueFullError, and the savepoint takes the batch back, or, under a drop
 * policy, cancels as many of its queued tasks (not the batch's) as it is over:
 * the oldest, or the lowest-priority then oldest.
 *
 * The count reads two partial indexes by queue (`tasks_ready_by_queue`,
 * `tasks_pending_by_queue`) and stops at the bound, so it costs at most
 * `maxSize` index entries, and nothing at all for a queue without a bound:
 * no counter is kept by claim or completion, which stay as fast as before.
 * Choosing what to drop reads the queue's queued tasks once (at most
 * `maxSize` of them, by the same index) and sorts them: no index is kept by
 * age or priority, which every enqueue and claim would pay for.
 */

import { QueueFullError } from "../../errors.ts";
import type { TaskError } from "../../tasks/task.ts";
import type { DropPolicy } from "../task-store.ts";
import type { EnqueueOptions, EnqueueResult, FinishResult } from "../types.ts";
import { failDependents } from "./dependents.ts";
import type { Sql } from "./statements.ts";
import { jsonText, updateTask } from "./task-rows.ts";

/** `state IN (...)` of the not-ready states a bound counts, as `tasks_pending_by_queue` spells it. */
export const PENDING_STATE_SQL = "state IN ('scheduled','retrying')";

const COUNT_SQL = `SELECT
  (SELECT COUNT(*) FROM (SELECT 1 FROM tasks WHERE queue = :queue AND state = 'queued' LIMIT :cap))
  + (SELECT COUNT(*) FROM (SELECT 1 FROM tasks WHERE queue = :queue AND ${PENDING_STATE_SQL} LIMIT :cap))
  AS size`;

/** The queued tasks a policy drops first; `:n` past the batch's own (which are never dropped). */
const DROP_ORDER: Readonly<Record<DropPolicy, string>> = {
  "drop-oldest": "created_at, id",
  "drop-lowest-priority": "priority, created_at, id",
};

const COUNTED = new Set(["queued", "scheduled", "retrying"]);

/**
 * Applies the bounds after the batch's inserts: a queue past its bound
 * throws QueueFullError (`size` in it is what it held before them), unless
 * `options.overflow` names a drop policy for it and enough queued tasks
 * are there to drop; each dropped task is added to the `dropped` of the
 * batch's task that took its place.
 */
export function applyQueueBounds(
  sql: Sql,
  results: readonly EnqueueResult[],
  options: EnqueueOptions,
  now: number,
): void {
  const maxSize = options.maxSize ?? {};
  const added = new Map<string, EnqueueResult[]>();
  for (const result of results) {
    const { task, deduplicated } = result;
    if (deduplicated || !COUNTED.has(task.state) || !Object.hasOwn(maxSize, task.queue)) continue;
    const list = added.get(task.queue);
    if (list === undefined) added.set(task.queue, [result]);
    else list.push(result);
  }
  for (const [queue, adding] of added) {
    const bound = maxSize[queue];
    const count = adding.length;
    const row = sql.get(COUNT_SQL, { queue, cap: bound + count });
    const size = Number(row?.size ?? 0);
    if (size <= bound) continue;
    const policy = options.overflow && Object.hasOwn(options.overflow, queue)
      ? options.overflow[queue]
      : undefined;
    // A queue already past a bound lowered since: room is made for the batch only.
    const over = Math.min(size - bound, count);
    const before = Math.max(0, size - count);
    const victims = policy === undefined
      ? []
      : dropCandidates(sql, queue, policy, over, new Set(adding.map((r) => r.task.id)));
    if (victims.length < over) throw new QueueFullError(queue, before, bound);
    // The last `over` tasks of the batch are those past the bound: each takes one place.
    victims.forEach((id, i) => {
      const by = adding[count - over + i];
      (by.dropped ??= []).push(
        dropTask(sql, id, dropMessage(queue, bound, policy!, by.task.id), now),
      );
    });
  }
}

/** The ids of up to `n` queued tasks of `queue` a policy drops, in order, none of `batch`. */
function dropCandidates(
  sql: Sql,
  queue: string,
  policy: DropPolicy,
  n: number,
  batch: ReadonlySet<string>,
): string[] {
  const rows = sql.all(
    `SELECT id FROM tasks WHERE queue = :queue AND state = 'queued'
     ORDER BY ${DROP_ORDER[policy]} LIMIT :limit`,
    { queue, limit: n + batch.size },
  );
  return rows.map((row) => String(row.id)).filter((id) => !batch.has(id)).slice(0, n);
}

/** Why a task was dropped, as its error and the `task.dropped` event say. */
export function dropMessage(
  queue: string,
  maxSize: number,
  policy: DropPolicy,
  by: string,
): string {
  return `dropped (${policy}): queue ${queue} was full (${maxSize} tasks) when ${by} was created`;
}

/** Cancels a queued task the bound drops; its waiting dependents fail as on any cancel. */
function dropTask(sql: Sql, id: string, message: string, now: number): FinishResult {
  const error: TaskError = { message, attempt: 0, permanent: true };
  const task = updateTask(
    sql,
    `UPDATE tasks SET state = 'cancelled', finished_at = :now, lease_until = NULL, error = :error
     WHERE id = :id`,
    { id, now, error: jsonText(error) },
  );
  return { task: task!, dependents: failDependents(sql, id, "cancelled", now) };
}
