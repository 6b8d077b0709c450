/**
 * Success of a task type as a Beta–Bernoulli model: each run succeeds with an
 * unknown probability p, p ~ Beta(alpha, beta) a priori; after s successes and
 * f failures the posterior is Beta(alpha + s, beta + f). Counts may be
 * fractional (forgetting weighs old runs less; see forget.ts).
 */

import { betaQuantile } from "./special.ts";

/** A Beta distribution. */
export interface Beta {
  alpha: number;
  beta: number;
}

/** How many runs the pooled prior is worth: a type's own runs outweigh it after a few. */
export const PRIOR_RUNS = 4;

/**
 * The empirical-Bayes prior: the fleet's success rate (every type pooled) as
 * its mean, worth {@link PRIOR_RUNS} runs, so a new type starts at the fleet's
 * average rather than at zero or one. The fleet rate itself is smoothed with
 * a uniform Beta(1, 1), so an empty fleet gives a prior mean of 1/2.
 */
export function pooledPrior(successes: number, failures: number, runs = PRIOR_RUNS): Beta {
  const mean = (successes + 1) / (successes + failures + 2);
  return { alpha: mean * runs, beta: (1 - mean) * runs };
}

/** Beta(alpha + successes, beta + failures). */
export function betaPosterior(prior: Beta, successes: number, failures: number): Beta {
  return { alpha: prior.alpha + successes, beta: prior.beta + failures };
}

/** The mean, alpha / (alpha + beta): P(success) of the next run. */
export function betaMean(b: Beta): number {
  return b.alpha / (b.alpha + b.beta);
}

/** The equal-tailed credible interval holding `level` of the probability (default 90 %). */
export function betaInterval(b: Beta, level = 0.9): [number, number] {
  const tail = (1 - level) / 2;
  return [betaQuantile(tail, b.alpha, b.beta), betaQuantile(1 - tail, b.alpha, b.beta)];
}
