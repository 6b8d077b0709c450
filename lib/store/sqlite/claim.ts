/**
 * Claim: the best ready task that fits, under a fresh lease.
 *
 * Candidates are read in claim order (sortKey, then id) from the partial
 * `tasks_ready*` indexes a page at a time, so the first candidate costs
 * O(log n) and skipped ones (too big for the free resources, or expired) cost
 * one index step each. A task skipped for want of resources it could have
 * (within the capacity) holds them back from the tasks behind it (see
 * `holdBack` in lib/resources.ts). With a list of queues, each queue is read from its own
 * index range and the heads are merged, so a long queue nobody asked for is
 * never walked.
 */

import { fits, holdBack } from "../../resources.ts";
import type { Task } from "../../tasks.ts";
import type { ClaimOptions, TaskTransition } from "../types.ts";
import { failDependents } from "./dependents.ts";
import { NOT_STARTED_SQL } from "./schema.ts";
import type { Params, Row, Sql } from "./statements.ts";
import { json, num, numOrNull, text } from "./statements.ts";
import { updateTask } from "./task_rows.ts";

/**
 * Candidates read per query: the first page is small because the first
 * candidate is nearly always the one claimed; later pages (only read when
 * tasks are being skipped) are larger.
 */
const FIRST_PAGE = 2;
const NEXT_PAGE = 64;

interface Candidate {
  id: string;
  sortKey: number;
  expiresAt: number | null;
  resources: Record<string, number>;
}

/** Reads one queue's (or every queue's) ready tasks in claim order, page by page. */
class ReadyCursor {
  #page: Candidate[] = [];
  #exhausted = false;
  #after: { sortKey: number; id: string } | null = null;

  constructor(readonly sql: Sql, readonly queue: string | null) {}

  /** The next candidate without taking it, or null when none are left. */
  peek(): Candidate | null {
    if (this.#page.length === 0 && !this.#exhausted) this.#fill();
    return this.#page[0] ?? null;
  }

  /** Moves past the current candidate. */
  skip(): void {
    this.#page.shift();
  }

  #fill(): void {
    const limit = this.#after === null ? FIRST_PAGE : NEXT_PAGE;
    const params: Params = { limit };
    let where = "state = 'queued'";
    // INDEXED BY pins the partial index: without statistics the planner would
    // rather filter by state and sort, which is O(queued) per claim.
    let index = "tasks_ready";
    if (this.queue !== null) {
      index = "tasks_ready_by_queue";
      where += " AND queue = :queue";
      params.queue = this.queue;
    }
    if (this.#after !== null) {
      where += " AND (sort_key, id) > (:sortKey, :id)";
      params.sortKey = this.#after.sortKey;
      params.id = this.#after.id;
    }
    const rows = this.sql.all(
      `SELECT id, sort_key, expires_at, resources FROM tasks INDEXED BY ${index} WHERE ${where}
       ORDER BY sort_key, id LIMIT :limit`,
      params,
    );
    this.#page = rows.map(candidateFromRow);
    this.#exhausted = rows.length < limit;
    const last = this.#page.at(-1);
    if (last !== undefined) this.#after = { sortKey: last.sortKey, id: last.id };
  }
}

function candidateFromRow(row: Row): Candidate {
  return {
    id: text(row, "id"),
    sortKey: num(row, "sort_key"),
    expiresAt: numOrNull(row, "expires_at"),
    // Most tasks ask for no resources: skip parsing the common empty object.
    resources: row.resources === "{}" ? {} : json<Record<string, number>>(row, "resources") ?? {},
  };
}

function before(a: Candidate, b: Candidate): boolean {
  return a.sortKey < b.sortKey || (a.sortKey === b.sortKey && a.id < b.id);
}

/**
 * Marks a not-yet-started task `expired` (if it still is live and not running)
 * and fails its waiting dependents.
 *
 * @example
 * ```ts
 * const transitions = expireTask(sql, id, now);
 * ```
 */
export function expireTask(sql: Sql, id: string, now: number): TaskTransition[] {
  const previous = sql.get("SELECT state FROM tasks WHERE id = :id", { id });
  const task = updateTask(
    sql,
    `UPDATE tasks SET state = 'expired', finished_at = :now, lease_until = NULL
     WHERE id = :id AND ${NOT_STARTED_SQL}`,
    { id, now },
  );
  if (task === null || previous === undefined) return [];
  return [
    { task, from: text(previous, "state") as Task["state"] },
    ...failDependents(sql, id, "expired", now),
  ];
}

/**
 * Takes the best ready task that fits and leases it to `workerId`. Expired
 * candidates met on the way become `expired`. With a `budget`, what is free
 * is lent to this claim alone and what the task holds is recorded before
 * the claim returns: the claim runs synchronously, so concurrent claims of a
 * pool each see what the ones before them took.
 *
 * @example
 * ```ts
 * const task = claimTask(sql, { workerId: "w1", queues: null, leaseMs: 30_000, now });
 * ```
 */
export function claimTask(sql: Sql, options: ClaimOptions): Task | null {
  const budget = options.budget;
  if (budget === undefined) return claimFitting(sql, options, options.available, options.capacity);
  const loan = budget.lend();
  let claimed: Task | null = null;
  try {
    claimed = claimFitting(sql, options, loan.free, budget.capacity);
  } finally {
    loan.settle(
      claimed
        ? [{ workerId: options.workerId, taskId: claimed.id, resources: claimed.resources }]
        : [],
    );
  }
  return claimed;
}

function claimFitting(
  sql: Sql,
  options: ClaimOptions,
  available: Readonly<Record<string, number>> | null | undefined,
  capacity: Readonly<Record<string, number>> | null | undefined,
): Task | null {
  const queues = options.queues === null ? [null] : [...new Set(options.queues)];
  const cursors = queues.map((queue) => new ReadyCursor(sql, queue));
  let free = available;
  for (;;) {
    let best: ReadyCursor | null = null;
    let bestHead: Candidate | null = null;
    for (const cursor of cursors) {
      const head = cursor.peek();
      if (head !== null && (bestHead === null || before(head, bestHead))) {
        best = cursor;
        bestHead = head;
      }
    }
    if (best === null || bestHead === null) return null;
    best.skip();
    if (bestHead.expiresAt !== null && bestHead.expiresAt <= options.now) {
      expireTask(sql, bestHead.id, options.now);
      continue;
    }
    if (!fits(bestHead.resources, free)) {
      // Tasks behind it must not take what it waits for (it would starve).
      if (free) free = holdBack(bestHead.resources, free, capacity);
      continue;
    }
    const claimed = updateTask(
      sql,
      `UPDATE tasks SET state = 'running', worker_id = :workerId, attempts = attempts + 1,
         fence = fence + 1, lease_until = :leaseUntil, started_at = :now, progress = 0,
         progress_message = NULL
       WHERE id = :id AND state = 'queued'`,
      {
        id: bestHead.id,
        workerId: options.workerId,
        leaseUntil: options.now + options.leaseMs,
        now: options.now,
      },
    );
    if (claimed !== null) return claimed;
  }
}
