/**
 * The resource budgets of one batch of claims (see lib/tasks/resources.ts): each
 * pool budget its claims name is lent once for the batch and sent once, as a
 * "b" entry of the script's arguments that those claims refer to by number;
 * the script subtracts what each claim takes, so the claims of one run never
 * take the same unit twice. A claim with only `available` gets a budget of
 * its own. The loans are settled with what the claims took once the replies
 * are read, before anyone hears of them.
 */

import type { ClaimBudget, ResourceLoan, ResourceTake } from "../../tasks/resources.ts";
import type { Task } from "../../tasks/task.ts";
import type { ClaimOptions } from "../types.ts";

interface Lent {
  ref: string;
  loan: ResourceLoan;
  taken: ResourceTake[];
}

/**
 * Budgets of one batch, written into its script arguments as claims are added.
 *
 * @example
 * ```ts
 * const budgets = new BatchBudgets(args);
 * args.push("l", workerId, leaseUntil, now, budgets.refFor(options), "-1");
 * // ... run the script, then for each claim:
 * budgets.took(options, task);
 * budgets.settle();
 * ```
 */
export class BatchBudgets {
  readonly #args: string[];
  readonly #lent = new Map<ClaimBudget, Lent>();
  readonly #sentAt = Date.now();
  #count = 0;

  constructor(args: string[]) {
    this.#args = args;
  }

  /** The claim's budget argument ("" = no limit, "#n"), declaring the budget first when new. */
  refFor(request: ClaimOptions): string {
    const budget = request.budget;
    if (budget !== undefined) {
      const lent = this.#lent.get(budget);
      if (lent) return lent.ref;
      const loan = budget.lend();
      const ref = this.#declare(loan.free, budget.capacity);
      this.#lent.set(budget, { ref, loan, taken: [] });
      return ref;
    }
    const available = request.available;
    return available === null || available === undefined
      ? ""
      : this.#declare(available, request.capacity);
  }

  /** Records what a claim took (nothing for a task without resources). */
  took(request: ClaimOptions, task: Task | null): void {
    const lent = request.budget && this.#lent.get(request.budget);
    if (lent && task !== null) {
      lent.taken.push({ workerId: request.workerId, taskId: task.id, resources: task.resources });
    }
  }

  /** True when the claim's budget was held by another batch: it saw nothing free. */
  refused(request: ClaimOptions): boolean {
    return request.budget !== undefined && this.#lent.get(request.budget)?.loan.refused === true;
  }

  /**
   * The claim to send again once its budget's loan is back, its clock moved
   * on by the time it waited (its task's startedAt is when it was taken).
   */
  again(request: ClaimOptions): Promise<{ kind: "claim"; options: ClaimOptions }> {
    const budget = request.budget;
    if (budget === undefined) throw new Error("only a claim with a budget is sent again");
    return budget.settled().then(() => ({
      kind: "claim",
      options: { ...request, now: request.now + Math.max(0, Date.now() - this.#sentAt) },
    }));
  }

  /** Ends every loan with what its claims took (once; later calls do nothing). */
  settle(): void {
    for (const { loan, taken } of this.#lent.values()) loan.settle(taken);
  }

  #declare(
    free: Readonly<Record<string, number>>,
    capacity: Readonly<Record<string, number>> | null | undefined,
  ): string {
    this.#args.push("b", JSON.stringify(free), capacity ? JSON.stringify(capacity) : "");
    return `#${++this.#count}`;
  }
}
