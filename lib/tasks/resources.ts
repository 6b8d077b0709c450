/**
 * Resources (`workers.resources`, a task's `resources`): named amounts a
 * process has (`{ "gpu": 1 }`) and a task asks for. A process runs a task
 * only while what its running tasks hold plus what the task asks for stays
 * within its capacity; a resource it does not name it has none of.
 *
 * Claims run concurrently (several workers; on Redis, batches of claims in
 * one script run, sometimes two batches in flight), so the free amounts are
 * lent to one claim step at a time ({@link ClaimBudget}): a step that runs
 * while another holds the loan sees nothing free. It still takes tasks that
 * ask for no resources, and on Redis a claim of it that found nothing is sent
 * again once the loan is back. The embedded store claims synchronously, so
 * its loans never overlap.
 */

/**
 * A task a claim took, with the resources it holds.
 */
export interface ResourceTake {
  workerId: string;
  taskId: string;
  resources: Readonly<Record<string, number>>;
}

/**
 * What one claim step may take from a {@link ClaimBudget}: one claim on the
 * embedded store, or every claim of one batch (one script run) on Redis.
 *
 * @example
 * ```ts
 * const loan = budget.lend();
 * // ... claim with loan.free, subtracting what each claim takes ...
 * loan.settle([{ workerId: "worker-1", resources: { gpu: 1 } }]);
 * ```
 */
export interface ResourceLoan {
  /** What is free for this step: everything free, or nothing when another step holds the loan. */
  readonly free: Readonly<Record<string, number>>;
  /**
   * True when another step held the loan, so this one saw nothing free: a
   * claim of it that found nothing may try again once
   * {@link ClaimBudget.settled} resolves.
   */
  readonly refused: boolean;
  /** Ends the loan (once): each task taken holds its resources until its worker releases them. */
  settle(taken: readonly ResourceTake[]): void;
}

/**
 * Resources several concurrent claims share (a worker pool's), passed to
 * `Store.claim` as `budget`.
 */
export interface ClaimBudget {
  /**
   * The most of each resource there is. A task that fits it but not what is
   * free holds back what it needs from the tasks behind it, so it runs as
   * soon as enough frees up; a task asking for more holds nothing back.
   */
  readonly capacity: Readonly<Record<string, number>>;
  /** Lends what is free now to one claim step. */
  lend(): ResourceLoan;
  /** Resolves once no loan is out. */
  settled(): Promise<void>;
}

/** Capacity and use of one resource, as `GET /un/workers` shows it. */
export interface ResourceUse {
  capacity: number;
  inUse: number;
}

/**
 * True when every resource `asked` for is in `free` in that amount (`free`
 * null or undefined: no limit; amounts of 0 ask for nothing).
 */
export function fits(
  asked: Readonly<Record<string, number>>,
  free: Readonly<Record<string, number>> | null | undefined,
): boolean {
  if (free === null || free === undefined) return true;
  for (const name in asked) {
    const amount = asked[name];
    if (amount > 0 && !(amount <= (free[name] ?? 0))) return false;
  }
  return true;
}

/**
 * Takes what a skipped task needs out of `free` (a claim's own copy) when
 * the task would fit `capacity`, so tasks behind it cannot use what it waits
 * for. Returns the copy to go on with (`free` itself when nothing changes).
 *
 * @example
 * ```ts
 * holdBack({ gpu: 2 }, { gpu: 1 }, { gpu: 2 }); // { gpu: -1 }: no gpu task behind it fits
 * holdBack({ gpu: 5 }, { gpu: 1 }, { gpu: 2 }); // { gpu: 1 }: it can never run here
 * ```
 */
export function holdBack(
  asked: Readonly<Record<string, number>>,
  free: Readonly<Record<string, number>>,
  capacity: Readonly<Record<string, number>> | null | undefined,
): Record<string, number> {
  const left = { ...free };
  if (capacity === null || capacity === undefined || !fits(asked, capacity)) return left;
  for (const name in asked) left[name] = (left[name] ?? 0) - Math.max(0, asked[name]);
  return left;
}

/** True when the record names no resource. */
export function noResources(resources: Readonly<Record<string, number>>): boolean {
  for (const _ in resources) return false;
  return true;
}

const NOTHING: Readonly<Record<string, number>> = Object.freeze({});

/** The loan of a pool without resources, and of a step refused: nothing free, nothing to record. */
const EMPTY_LOAN: ResourceLoan = { free: NOTHING, refused: false, settle: () => {} };
const REFUSED_LOAN: ResourceLoan = { free: NOTHING, refused: true, settle: () => {} };

interface Hold {
  workerId: string;
  resources: Readonly<Record<string, number>>;
  /** The worker got the task (its claim resolved); until then a failed claim drops the hold. */
  confirmed: boolean;
}

/**
 * A worker pool's resources: its capacity, what each claimed task holds (by
 * task id), and the loan of what is free to one claim step at a time. A
 * worker releases what its task held when the attempt ends, before claiming
 * the next. When resources free up and nobody is claiming, `wake` is called
 * so the pool's idle workers claim at once rather than at their next poll.
 *
 * @example
 * ```ts
 * const ledger = new ResourceLedger({ gpu: 1 });
 * const task = await store.claim({ workerId: "worker-1", queues: null, leaseMs, now, budget: ledger });
 * if (task) ledger.confirm(task.id);
 * ledger.usage(); // { gpu: { capacity: 1, inUse: 1 } } when it took a gpu task
 * if (task) ledger.release(task.id);
 * ```
 */
export class ResourceLedger implements ClaimBudget {
  readonly capacity: Readonly<Record<string, number>>;
  /** Wakes the idle workers of the pool (set by the pool that uses the ledger now). */
  wake: () => void = () => {};
  /** A pool without resources lends nothing and records nothing: its claims cost no more. */
  readonly #limited: boolean;
  readonly #held = new Map<string, Hold>();
  #lent = false;
  #waiters: Array<() => void> = [];
  /** Something was released since the idle workers were last woken. */
  #freed = false;
  #wakeScheduled = false;

  constructor(capacity: Readonly<Record<string, number>>) {
    this.capacity = Object.freeze({ ...capacity });
    this.#limited = !noResources(capacity);
  }

  lend(): ResourceLoan {
    if (!this.#limited) return EMPTY_LOAN;
    if (this.#lent) return REFUSED_LOAN;
    this.#lent = true;
    let open = true;
    return {
      free: this.free(),
      refused: false,
      settle: (taken) => {
        if (!open) return;
        open = false;
        for (const { workerId, taskId, resources } of taken) {
          if (!noResources(resources)) {
            this.#held.set(taskId, { workerId, resources, confirmed: false });
          }
        }
        this.#lent = false;
        const waiters = this.#waiters;
        this.#waiters = [];
        waiters.forEach((resolve) => resolve());
        if (this.#freed) this.#scheduleWake();
      },
    };
  }

  settled(): Promise<void> {
    if (!this.#lent) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The worker got the task it claimed: its hold lasts until {@link release}. */
  confirm(taskId: string): void {
    const hold = this.#limited ? this.#held.get(taskId) : undefined;
    if (hold) hold.confirmed = true;
  }

  /**
   * A claim of `workerId` failed: what it may have recorded for a task the
   * worker never got (the embedded store's commit failed) is free again.
   */
  claimFailed(workerId: string): void {
    for (const [taskId, hold] of this.#held) {
      if (hold.workerId === workerId && !hold.confirmed) this.release(taskId);
    }
  }

  /** Frees what the task held (nothing when it held nothing). */
  release(taskId: string): void {
    if (!this.#limited || !this.#held.delete(taskId)) return;
    this.#freed = true;
    this.#scheduleWake();
  }

  /** Capacity minus what claimed tasks hold (a loan out does not count as used). */
  free(): Record<string, number> {
    const free = { ...this.capacity };
    for (const { resources } of this.#held.values()) {
      for (const name in resources) free[name] = (free[name] ?? 0) - resources[name];
    }
    return free;
  }

  /** Capacity and use of each resource of the capacity. */
  usage(): Record<string, ResourceUse> {
    const free = this.free();
    const usage: Record<string, ResourceUse> = {};
    for (const [name, capacity] of Object.entries(this.capacity)) {
      usage[name] = { capacity, inUse: capacity - (free[name] ?? 0) };
    }
    return usage;
  }

  /**
   * Wakes the idle workers after the current burst (the releasing worker
   * claims first, with the loan), if something is still free then and no
   * claim holds the loan; a loan out wakes them when it is settled.
   */
  #scheduleWake(): void {
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    setTimeout(() => {
      this.#wakeScheduled = false;
      if (this.#lent || !this.#freed) return;
      this.#freed = false;
      if (Object.values(this.free()).some((amount) => amount > 0)) this.wake();
    }, 0);
  }
}
