/**
 * Exponential forgetting: a run `halfLifeMs` old counts half as much as one
 * now. All sufficient statistics of a type (weighted runs, failures, Σ ln ms,
 * Σ ln² ms) shrink by the same factor, so means stay where they are and only
 * the certainty fades, letting new runs move the model after a drift.
 */

/** The weight left after `elapsedMs`: 0.5^(elapsed / halfLife); 1 with no half-life. */
export function decayFactor(elapsedMs: number, halfLifeMs: number): number {
  if (!(halfLifeMs > 0) || !(elapsedMs > 0)) return 1;
  return 0.5 ** (elapsedMs / halfLifeMs);
}
