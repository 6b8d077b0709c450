/**
 * Claim: the best ready task that fits, under a fresh lease.
 *
 * Candidates are read in claim order (sortKey, then id) from the partial
 * `tasks_ready*` indexes a page at a time, so the first candidate costs
 * O(log n) and skipped ones (too big for the free resources, or expired) cost
 * one index step each. A task skipped for want of resources it could have
 * (within the capacity) holds them back from the tasks behind it (see
 * `holdBack` in lib/tasks/resources.ts). With a list of queues, each queue is read from its own
 * index range and the heads are merged, so a long queue nobody asked for is
 * never walked.
 *
 * The claims of a burst run as one {@link ClaimBatch}: one read of as many
 * candidates as there are claims serves them all, whole rows, so a claimed
 * task needs no read-back (a statement costs ~5-15 µs through `node:sqlite`,
 * a good part of a no-op task's whole cost). The rows are read with their
 * rowid, so the leases (and the successes of `sqlite/claims.ts`) find each row
 * by rowid rather than through the id index first; the id is checked too,
 * since a rowid can be taken again by a newer task after a removal.
 */

import { fits, holdBack } from "../../tasks/resources.ts";
import type { ClaimGate } from "../queue-control.ts";
import type { Task } from "../../tasks/task.ts";
import type { ClaimOptions, TaskTransition } from "../types.ts";
import { failDependents } from "./dependents.ts";
import { NOT_STARTED_SQL } from "./schema.ts";
import type { SQLOutputValue } from "node:sqlite";
import { type Params, type Sql, text } from "./statements.ts";
import { TASK_COLUMN, TASK_COLUMNS, taskFromValues, updateTask } from "./task-rows.ts";

/**
 * Candidates read per query after the first page (only read when tasks are
 * being skipped). The first page of a batch holds one candidate per claim
 * waiting for it (at least {@link FIRST_PAGE}): the first candidates are
 * nearly always the ones claimed.
 */
const FIRST_PAGE = 2;
const NEXT_PAGE = 64;

/**
 * A ready task in claim order, its row read whole (as an array of
 * `TASK_COLUMNS`) so that claiming it needs no read-back.
 */
interface Candidate {
  id: string;
  sortKey: number;
  expiresAt: number | null;
  resources: Record<string, number>;
  rowid: number;
  values: SQLOutputValue[];
}

/**
 * One queue's (or every queue's) ready tasks in claim order, read page by
 * page and shared by the claims of a batch. Candidates a claim of the batch
 * took (or expired) are left out for the others; a candidate one claim skipped
 * (too big for what it may take) stays for the next.
 */
class ReadyList {
  readonly rows: Candidate[] = [];
  #exhausted = false;
  #after: { sortKey: number; id: string } | null = null;

  constructor(
    readonly sql: Sql,
    readonly queue: string | null,
    private readonly firstPage: number,
  ) {}

  /** Reads the next page; false when there was none. */
  more(): boolean {
    if (this.#exhausted) return false;
    const limit = this.#after === null ? this.firstPage : NEXT_PAGE;
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
    const rows = this.sql.allArrays(
      `SELECT ${TASK_COLUMNS}, rowid FROM tasks INDEXED BY ${index} WHERE ${where}
       ORDER BY sort_key, id LIMIT :limit`,
      params,
    );
    for (const values of rows) this.rows.push(candidateOf(values));
    this.#exhausted = rows.length < limit;
    const last = this.rows.at(-1);
    if (last !== undefined) this.#after = { sortKey: last.sortKey, id: last.id };
    return rows.length > 0;
  }
}

/** One claim's walk over a {@link ReadyList}. */
class ReadyCursor {
  #index = 0;

  constructor(readonly list: ReadyList, private readonly taken: ReadonlySet<string>) {}

  /** The next candidate without taking it, or null when none are left. */
  peek(): Candidate | null {
    const rows = this.list.rows;
    for (;;) {
      while (this.#index < rows.length && this.taken.has(rows[this.#index].id)) this.#index++;
      if (this.#index < rows.length) return rows[this.#index];
      if (!this.list.more()) return null;
    }
  }

  /** Moves past the current candidate. */
  skip(): void {
    this.#index++;
  }
}

function candidateOf(values: SQLOutputValue[]): Candidate {
  const resources = values[TASK_COLUMN.resources];
  const expiresAt = values[TASK_COLUMN.expiresAt];
  return {
    id: String(values[TASK_COLUMN.id]),
    sortKey: Number(values[TASK_COLUMN.sortKey]),
    expiresAt: expiresAt === null ? null : Number(expiresAt),
    // Most tasks ask for no resources: skip parsing the common empty object.
    resources: resources === "{}" || resources === null
      ? {}
      : JSON.parse(String(resources)) as Record<string, number>,
    // After the task's columns.
    rowid: Number(values[TASK_COLUMN.rowid]),
    values,
  };
}

function before(a: Candidate, b: Candidate): boolean {
  return a.sortKey < b.sortKey || (a.sortKey === b.sortKey && a.id < b.id);
}

/**
 * Marks a not-yet-started task `expired` (if it still is live and not running)
 * and fails its waiting dependents.
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

/** Rows per UPDATE of the batch's claims (5 parameters each). */
const ROWS_PER_UPDATE = 32;

/** The UPDATE that leases `n` tasks, made once per size (its text is the statement cache's key). */
const LEASES: string[] = [];
function leaseOf(n: number): string {
  return LEASES[n] ??= `UPDATE tasks SET state = 'running', worker_id = c.column2,
      attempts = attempts + 1, fence = fence + 1, lease_until = c.column3, started_at = c.column4,
      progress = 0, progress_message = NULL
    FROM (VALUES ${Array(n).fill("(?, ?, ?, ?, ?)").join(", ")}) AS c
    WHERE tasks.rowid = c.column5 AND tasks.id = c.column1 AND tasks.state = 'queued'`;
}

/**
 * The claims of one burst (a pool's workers asking together), run one after
 * the other in one transaction: they share their reads of the ready tasks, so
 * a burst of `n` claims costs one query instead of `n`; each claimed task
 * comes from the row already read instead of a read-back; and their leases
 * are written by one UPDATE per 32 claims ({@link ClaimBatch.lease}), since
 * each statement costs about as much again as the row it changes (it opens
 * the table and every index). Each claim still takes the best ready task
 * that fits it, as if it ran alone.
 *
 * @example
 * ```ts
 * const batch = new ClaimBatch(sql, requests.length);
 * const tasks = requests.map((options) => batch.claim(options));
 * batch.lease(); // in the same synchronous run, before anything else writes
 * ```
 */
export class ClaimBatch {
  readonly #lists = new Map<string, ReadyList>();
  /** Tasks claimed or expired by this batch: no longer ready. */
  readonly #taken = new Set<string>();
  /** Claimed tasks whose lease is still to be written: id, worker, lease end, start, rowid. */
  #leases: Array<string | number> = [];
  /** The rowid of each task this batch claimed. */
  readonly #rowids = new Map<string, number>();

  /**
   * `size`: how many claims the batch expects (its first read fetches that
   * many candidates); `gate`: paused and rate-limited queues, when any.
   */
  constructor(
    private readonly sql: Sql,
    private readonly size = 1,
    private readonly gate: ClaimGate | null = null,
  ) {}

  /**
   * Takes the best ready task that fits for `workerId` (its lease is written
   * by {@link ClaimBatch.lease}). Expired candidates met on the way become
   * `expired`. With a `budget`, what is free is lent to this claim alone and
   * what the task holds is recorded before the claim returns: claims run one
   * at a time, so each sees what the ones before it took.
   */
  claim(options: ClaimOptions): Task | null {
    const budget = options.budget;
    if (budget === undefined) {
      return this.#claimFitting(options, options.available, options.capacity);
    }
    const loan = budget.lend();
    let claimed: Task | null = null;
    try {
      claimed = this.#claimFitting(options, loan.free, budget.capacity);
    } finally {
      loan.settle(
        claimed
          ? [{ workerId: options.workerId, taskId: claimed.id, resources: claimed.resources }]
          : [],
      );
    }
    return claimed;
  }

  /**
   * Writes the leases of the tasks claimed so far. Nothing else may write in
   * between: the rows were read as `queued` in this run, and a claim that no
   * longer finds its row so is a bug that fails the whole batch.
   */
  lease(): void {
    const leases = this.#leases;
    this.#leases = [];
    for (let from = 0; from < leases.length; from += 5 * ROWS_PER_UPDATE) {
      const values = leases.slice(from, from + 5 * ROWS_PER_UPDATE);
      const rows = values.length / 5;
      const changed = this.sql.runValues(leaseOf(rows), values);
      if (changed !== rows) {
        throw new Error(`${rows - changed} claimed tasks were no longer queued`);
      }
    }
  }

  /** The rowid of a task this batch claimed (where its row is, for a later UPDATE by rowid). */
  rowidOf(taskId: string): number | undefined {
    return this.#rowids.get(taskId);
  }

  #list(queue: string | null): ReadyList {
    const name = queue === null ? "" : `q:${queue}`;
    let list = this.#lists.get(name);
    if (list === undefined) {
      list = new ReadyList(this.sql, queue, Math.max(FIRST_PAGE, this.size));
      this.#lists.set(name, list);
    }
    return list;
  }

  #claimFitting(
    options: ClaimOptions,
    available: Readonly<Record<string, number>> | null | undefined,
    capacity: Readonly<Record<string, number>> | null | undefined,
  ): Task | null {
    const { sql } = this;
    const queues = options.queues === null ? [null] : [...new Set(options.queues)];
    const cursors = queues.map((queue) => new ReadyCursor(this.#list(queue), this.#taken));
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
        this.#taken.add(bestHead.id);
        expireTask(sql, bestHead.id, options.now);
        continue;
      }
      // Paused or over its queue's (or its group's) rate limit: skipped, holding
      // nothing back from the tasks behind (another group's may start).
      const gate = this.gate;
      const queue = gate === null ? "" : String(bestHead.values[TASK_COLUMN.queue]);
      const group = gate === null ? null : bestHead.values[TASK_COLUMN.rateGroup];
      const rateGroup = group === null || group === undefined ? null : String(group);
      if (gate !== null && !gate.allows(queue, rateGroup, options.now)) continue;
      if (!fits(bestHead.resources, free)) {
        // Tasks behind it must not take what it waits for (it would starve).
        if (free) free = holdBack(bestHead.resources, free, capacity);
        continue;
      }
      gate?.took(queue, rateGroup, options.now);
      // Read under another queue's list, it may be in this one's too: taken once.
      this.#taken.add(bestHead.id);
      const leaseUntil = options.now + options.leaseMs;
      this.#leases.push(bestHead.id, options.workerId, leaseUntil, options.now, bestHead.rowid);
      this.#rowids.set(bestHead.id, bestHead.rowid);
      // The row as read, changed as the lease's UPDATE changes it: what a read-back returns.
      const task = taskFromValues(bestHead.values);
      task.state = "running";
      task.workerId = options.workerId;
      task.attempts += 1;
      task.fence += 1;
      task.leaseUntil = leaseUntil;
      task.startedAt = options.now;
      task.progress = 0;
      task.progressMessage = null;
      return task;
    }
  }
}
