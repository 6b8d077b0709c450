/**
 * Run time of a task type as log-normal: x = ln(ms) ~ Normal(mu, sigma²) with
 * both unknown, under the conjugate Normal-Inverse-Gamma prior
 * (mu | sigma² ~ N(mu0, sigma²/kappa0), sigma² ~ InvGamma(alpha0, beta0)).
 *
 * Why not a known-variance Normal: the spread of run times differs by orders
 * of magnitude between types (a 20 ms resize against a flaky HTTP call), so a
 * fixed sigma would be wrong for most of them; the NIG learns it per type and
 * its interval for mu is a Student t, honestly wide after few runs.
 *
 * Sufficient statistics are weighted sums (n, Σx, Σx²) so forgetting can
 * shrink them (see forget.ts).
 */

import { studentTQuantile } from "./special.ts";

/** A Normal-Inverse-Gamma distribution over (mu, sigma²) of ln(ms). */
export interface Nig {
  mu: number;
  kappa: number;
  alpha: number;
  beta: number;
}

/** Weighted sufficient statistics of ln(ms): count, Σx, Σx². */
export interface LogSums {
  n: number;
  sum: number;
  sumSq: number;
}

/** The prior's weight on mu, in runs. */
const PRIOR_KAPPA = 1;
/** alpha0 = 2 keeps E[sigma²] = beta0 finite with the least weight that does. */
const PRIOR_ALPHA = 2;
/** A fleet with no spread yet still leaves room: sigma of ln time at least 0.5 (×1.6). */
const MIN_PRIOR_VAR = 0.25;

/**
 * The empirical-Bayes prior from the fleet's pooled log times: centred on
 * their mean, with their variance (within and between types) as the expected
 * sigma², worth one run on mu. An empty fleet centres on 100 ms.
 */
export function pooledNig(fleet: LogSums): Nig {
  const mu = fleet.n > 0 ? fleet.sum / fleet.n : Math.log(100);
  const variance = fleet.n > 1 ? Math.max(0, fleet.sumSq / fleet.n - mu * mu) : 0;
  return {
    mu,
    kappa: PRIOR_KAPPA,
    alpha: PRIOR_ALPHA,
    beta: Math.max(MIN_PRIOR_VAR, variance) * (PRIOR_ALPHA - 1),
  };
}

/**
 * The conjugate update (Murphy, "Conjugate Bayesian analysis of the Gaussian
 * distribution", eq. 85–89), with S = Σ(x − x̄)² = Σx² − n·x̄².
 */
export function nigPosterior(prior: Nig, data: LogSums): Nig {
  const { n } = data;
  if (!(n > 0)) return prior;
  const mean = data.sum / n;
  const scatter = Math.max(0, data.sumSq - n * mean * mean);
  const kappa = prior.kappa + n;
  return {
    mu: (prior.kappa * prior.mu + n * mean) / kappa,
    kappa,
    alpha: prior.alpha + n / 2,
    beta: prior.beta + scatter / 2 + (prior.kappa * n * (mean - prior.mu) ** 2) / (2 * kappa),
  };
}

/** E[sigma²] = beta / (alpha − 1) (alpha > 1 always holds here). */
export function expectedVariance(p: Nig): number {
  return p.beta / (p.alpha - 1);
}

/** The median run time, exp(mu) at the posterior mean of mu (ms). */
export function medianMs(p: Nig): number {
  return Math.exp(p.mu);
}

/**
 * The expected run time (ms): exp(mu + E[sigma²]/2), the log-normal mean at the
 * posterior means (the exact posterior predictive, a log-t, has no mean).
 */
export function meanMs(p: Nig): number {
  return Math.exp(p.mu + expectedVariance(p) / 2);
}

/**
 * The equal-tailed credible interval of the median run time (ms): mu's
 * marginal posterior is Student t with 2·alpha degrees of freedom, location
 * mu and scale sqrt(beta / (alpha·kappa)).
 */
export function medianInterval(p: Nig, level = 0.9): [number, number] {
  const t = studentTQuantile(1 - (1 - level) / 2, 2 * p.alpha);
  const half = t * Math.sqrt(p.beta / (p.alpha * p.kappa));
  return [Math.exp(p.mu - half), Math.exp(p.mu + half)];
}
