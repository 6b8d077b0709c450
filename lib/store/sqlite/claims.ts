/**
 * The claims of one embedded store: each waits for the commit of the
 * transaction it joins and runs, with the other claims of that burst, just
 * before COMMIT (after every write issued before it), as one
 * {@link ClaimBatch}: one read of the ready tasks serves the whole burst. The
 * tasks they return are remembered until they finish, with the progress
 * message recorded meanwhile, so a success is recorded without reading the
 * row back (see `completeTask`). A commit that fails forgets them all: what
 * they remember may not be what is stored.
 */

import type { Task } from "../../tasks.ts";
import type { ClaimOptions } from "../types.ts";
import { ClaimBatch } from "./claim.ts";
import type { GroupCommit } from "./group_commit.ts";
import type { Sql } from "./statements.ts";

/** A claim waiting for the commit it joined. */
interface PendingClaim {
  options: ClaimOptions;
  resolve(task: Task | null): void;
  reject(error: unknown): void;
}

/** Claimed tasks remembered for their finish: at most this many. */
const CLAIMED_MAX = 10_000;

/**
 * Claims of a store, gathered per commit.
 *
 * @example
 * ```ts
 * const claims = new Claims(sql, commits);
 * const task = await claims.claim({ workerId: "w1", queues: null, leaseMs: 30_000, now });
 * claims.take(task!.id); // the task as claimed (once)
 * ```
 */
export class Claims {
  #pending: PendingClaim[] = [];
  /** Tasks claimed here that have not finished, by id, as the claim returned them. */
  readonly #claimed = new Map<string, Task>();

  constructor(private readonly sql: Sql, private readonly commits: GroupCommit) {}

  /** Claims at the next commit; resolves after it. Throws when no transaction can be opened. */
  claim(options: ClaimOptions): Promise<Task | null> {
    return new Promise((resolve, reject) => {
      if (this.#pending.length === 0) {
        this.commits.beforeCommit({ run: () => this.#run(), fail: (error) => this.#fail(error) });
      }
      this.#pending.push({ options, resolve, reject });
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
  }

  /** The task as this store claimed it, if it did (and forgets it: a finish asks once). */
  take(id: string): Task | undefined {
    const task = this.#claimed.get(id);
    this.#claimed.delete(id);
    return task;
  }

  /**
   * The claims of the burst, one after the other in one write: they share
   * their reads, and what one takes the next no longer sees. A claim that
   * throws fails the write, so none of them is acknowledged.
   */
  #run(): void {
    const claims = this.#pending;
    this.#pending = [];
    const batch = new ClaimBatch(this.sql, claims.length);
    this.commits.write(() => claims.map((claim) => batch.claim(claim.options))).then(
      (tasks) => {
        tasks.forEach((task, i) => {
          if (task !== null) this.#remember(task);
          claims[i].resolve(task);
        });
      },
      (error) => claims.forEach((claim) => claim.reject(error)),
    );
  }

  #fail(error: unknown): void {
    const claims = this.#pending;
    this.#pending = [];
    for (const claim of claims) claim.reject(error);
  }

  #remember(task: Task): void {
    // Only a shortcut: tasks that never finish here (a crashed worker) must not pile up.
    if (this.#claimed.size >= CLAIMED_MAX) this.#claimed.clear();
    this.#claimed.set(task.id, task);
  }
}
