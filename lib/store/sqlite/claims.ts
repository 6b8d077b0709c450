/**
 * The tasks one embedded store claims, from their claim to their success.
 *
 * - A claim waits for the commit of the transaction it joins and runs, with
 *   the other claims of that burst, just before COMMIT (after every write
 *   issued before it), as one {@link ClaimBatch}: one read of the ready tasks
 *   and one UPDATE serve the whole burst.
 * - The tasks they return are remembered until they finish, with the
 *   progress message recorded meanwhile. While no task has dependencies, the
 *   success of a task claimed here waits for the commit too, and the
 *   successes of a burst are one UPDATE; each finished task is the one
 *   remembered, changed as that UPDATE changed its row, with no read-back.
 *   The UPDATE finds each row by the rowid its claim read (and checks the
 *   id), and returns nothing: when it changed fewer rows than it was given,
 *   which ones lost their lease is read afterwards (rare).
 * - A commit that fails forgets them all: what they remember may not be what
 *   is stored.
 *
 * Every promise settles after the COMMIT that carried its write, as any write
 * of the group commit does (an answer is durable).
 */

import type { Json } from "../../events/cloud-event.ts";
import { LeaseLostError } from "../../errors.ts";
import type { Task } from "../../tasks/task.ts";
import type { ClaimOptions, FinishResult } from "../types.ts";
import { ClaimBatch } from "./claim.ts";
import type { ClaimGate } from "../queue-control.ts";
import type { GroupCommit } from "./group-commit.ts";
import type { Sql } from "./statements.ts";
import { jsonText } from "./task-rows.ts";

/** A claim waiting for the commit it joined. */
interface PendingClaim {
  options: ClaimOptions;
  resolve(task: Task | null): void;
  reject(error: unknown): void;
}

/** A success waiting for the commit it joined. */
interface PendingSuccess {
  claimed: Task;
  /** Where its row is (read by the claim). */
  rowid: number;
  /** The result as stored (JSON text, or null). */
  result: string | null;
  now: number;
  resolve(finished: FinishResult): void;
  reject(error: unknown): void;
}

/** Claimed tasks remembered for their finish: at most this many. */
const CLAIMED_MAX = 10_000;
/** Rows per UPDATE of a burst's successes (5 parameters each). */
const ROWS_PER_UPDATE = 32;

/** The UPDATE that records `n` successes, made once per size (its text is the statement cache's key). */
const SUCCESSES: string[] = [];
function successesOf(n: number): string {
  return SUCCESSES[n] ??= `UPDATE tasks SET state = 'succeeded', result = c.column3, progress = 1,
      finished_at = c.column4, lease_until = NULL
    FROM (VALUES ${Array(n).fill("(?, ?, ?, ?, ?)").join(", ")}) AS c
    WHERE tasks.rowid = c.column5 AND tasks.id = c.column1 AND tasks.state = 'running'
      AND tasks.fence = c.column2`;
}

/**
 * Claims of a store, gathered per commit, and the successes of what they claimed.
 *
 * @example
 * ```ts
 * const claims = new Claims(sql, commits);
 * const task = await claims.claim({ workerId: "w1", queues: null, leaseMs: 30_000, now });
 * const done = claims.succeed(task!.id, task!.fence, { ok: true }, Date.now()); // null: not claimed here
 * ```
 */
export class Claims {
  #claims: PendingClaim[] = [];
  #successes: PendingSuccess[] = [];
  /** Tasks claimed here that have not finished, by id, as the claim returned them. */
  readonly #claimed = new Map<string, Task>();
  /** The rowid of each task in {@link Claims.#claimed}. */
  readonly #rowids = new Map<string, number>();

  /** `gate`: what claims check of paused and rate-limited queues now (null: nothing). */
  constructor(
    private readonly sql: Sql,
    private readonly commits: GroupCommit,
    private readonly gate: () => ClaimGate | null = () => null,
  ) {}

  /** Claims at the next commit; resolves after it. Throws when no transaction can be opened. */
  claim(options: ClaimOptions): Promise<Task | null> {
    if (this.#claims.length === 0) {
      this.commits.beforeCommit({
        run: () => this.#runClaims(),
        fail: (error) => this.#failAll(this.#takeClaims(), error),
      });
    }
    return new Promise((resolve, reject) => this.#claims.push({ options, resolve, reject }));
  }

  /**
   * Records the success of a task claimed here under `fence` at the next
   * commit; null when this store did not claim it (the caller records it
   * itself). Only while no task has dependencies: a success then releases
   * nothing. Throws when no transaction can be opened.
   */
  succeed(id: string, fence: number, result: Json, now: number): Promise<FinishResult> | null {
    const rowid = this.#rowids.get(id);
    const claimed = this.take(id);
    if (claimed?.fence !== fence || rowid === undefined) return null;
    if (this.#successes.length === 0) {
      this.commits.beforeCommit({
        run: () => this.#runSuccesses(),
        fail: (error) => this.#failAll(this.#takeSuccesses(), error),
      });
    }
    return new Promise((resolve, reject) => {
      this.#successes.push({ claimed, rowid, result: jsonText(result), now, resolve, reject });
    });
  }

  /** A progress message was recorded for the task under this fence. */
  progressed(id: string, fence: number, message: string | null): void {
    const task = this.#claimed.get(id);
    // A copy: the worker holds the object the claim returned.
    if (task?.fence === fence) this.#claimed.set(id, { ...task, progressMessage: message ?? null });
  }

  /** Forgets every claimed task (a commit failed). */
  forgetAll(): void {
    this.#claimed.clear();
    this.#rowids.clear();
  }

  /** The task as this store claimed it, if it did (and forgets it: a finish asks once). */
  take(id: string): Task | undefined {
    const task = this.#claimed.get(id);
    this.#claimed.delete(id);
    this.#rowids.delete(id);
    return task;
  }

  /**
   * The claims of the burst, one after the other in one write: they share
   * their reads and their UPDATE, and what one takes the next no longer
   * sees. A claim that fails fails the write, so none of them is acknowledged.
   */
  #runClaims(): void {
    const claims = this.#takeClaims();
    const batch = new ClaimBatch(this.sql, claims.length, this.gate());
    this.commits.write(() => {
      const tasks = claims.map((claim) => batch.claim(claim.options));
      batch.lease();
      return tasks;
    }).then(
      (tasks) => {
        tasks.forEach((task, i) => {
          const rowid = task === null ? undefined : batch.rowidOf(task.id);
          if (task !== null && rowid !== undefined) this.#remember(task, rowid);
          claims[i].resolve(task);
        });
      },
      (error) => this.#failAll(claims, error),
    );
  }

  /** The successes of the burst in one write; one whose fence no longer holds is LeaseLostError. */
  #runSuccesses(): void {
    const successes = this.#takeSuccesses();
    this.commits.write(() => {
      let lost: Set<string> | null = null;
      for (let from = 0; from < successes.length; from += ROWS_PER_UPDATE) {
        const rows = successes.slice(from, from + ROWS_PER_UPDATE);
        const values = rows.flatMap((
          s,
        ) => [s.claimed.id, s.claimed.fence, s.result, s.now, s.rowid]);
        if (this.sql.runValues(successesOf(rows.length), values) !== rows.length) {
          lost ??= new Set();
          for (const id of this.#notRecorded(rows)) lost.add(id);
        }
      }
      return lost;
    }).then(
      (lost) => {
        for (const success of successes) {
          const { claimed } = success;
          if (lost?.has(claimed.id)) {
            success.reject(new LeaseLostError(claimed.id, claimed.fence));
            continue;
          }
          success.resolve({ task: succeeded(success), dependents: [] });
        }
      },
      (error) => this.#failAll(successes, error),
    );
  }

  /**
   * Which of these successes the UPDATE did not record: their row is not
   * the one they claimed, succeeded under their fence (only their claimant
   * holds that fence, and it finishes a task once).
   */
  #notRecorded(rows: PendingSuccess[]): string[] {
    return rows.filter(({ claimed }) =>
      this.sql.get(
        "SELECT 1 FROM tasks WHERE id = :id AND state = 'succeeded' AND fence = :fence",
        { id: claimed.id, fence: claimed.fence },
      ) === undefined
    ).map(({ claimed }) => claimed.id);
  }

  #takeClaims(): PendingClaim[] {
    const claims = this.#claims;
    this.#claims = [];
    return claims;
  }

  #takeSuccesses(): PendingSuccess[] {
    const successes = this.#successes;
    this.#successes = [];
    return successes;
  }

  #failAll(pending: ReadonlyArray<{ reject(error: unknown): void }>, error: unknown): void {
    for (const item of pending) item.reject(error);
  }

  #remember(task: Task, rowid: number): void {
    // Only a shortcut: tasks that never finish here (a crashed worker) must not pile up.
    if (this.#claimed.size >= CLAIMED_MAX) this.forgetAll();
    this.#claimed.set(task.id, task);
    this.#rowids.set(task.id, rowid);
  }
}

/** The task as claimed, changed as the success's UPDATE changed its row. */
function succeeded(success: PendingSuccess): Task {
  return {
    ...success.claimed,
    state: "succeeded",
    // Parsed back from the stored text, as a read returns it.
    result: success.result === null ? null : JSON.parse(success.result) as Json,
    progress: 1,
    finishedAt: success.now,
    leaseUntil: null,
  };
}
