/**
 * The learned model's math against closed forms: the Beta posterior's mean and
 * interval, the Normal-Inverse-Gamma update of log run times, forgetting, and
 * the empirical-Bayes prior a new type starts from.
 */

import assert from "node:assert/strict";
import { betaInterval, betaMean, betaPosterior, pooledPrior } from "../lib/tasks/learn/beta.ts";
import {
  meanMs,
  medianInterval,
  medianMs,
  nigPosterior,
  pooledNig,
} from "../lib/tasks/learn/lognormal.ts";
import { decayFactor } from "../lib/tasks/learn/forget.ts";
import { learnedFigures } from "../lib/tasks/learn/model.ts";
import { modelAfter, type TypeStats } from "../lib/store/types.ts";

const close = (actual: number, expected: number, tolerance = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not ${expected}`);

Deno.test("Beta: the posterior adds successes and failures; mean a/(a+b)", () => {
  const post = betaPosterior({ alpha: 1, beta: 1 }, 8, 2);
  assert.deepEqual(post, { alpha: 9, beta: 3 });
  close(betaMean(post), 0.75);
});

Deno.test("Beta: the 90 % interval matches closed-form quantiles", () => {
  // Beta(1, 1) is uniform: quantiles are p itself.
  const [lo, hi] = betaInterval({ alpha: 1, beta: 1 });
  close(lo, 0.05, 1e-9);
  close(hi, 0.95, 1e-9);
  // Beta(a, 1) has CDF x^a: the q quantile is q^(1/a).
  const [lo3, hi3] = betaInterval({ alpha: 3, beta: 1 });
  close(lo3, 0.05 ** (1 / 3), 1e-9);
  close(hi3, 0.95 ** (1 / 3), 1e-9);
});

Deno.test("Beta: the pooled prior has the fleet's smoothed rate as mean, worth 4 runs", () => {
  const prior = pooledPrior(90, 10);
  close(prior.alpha + prior.beta, 4);
  close(betaMean(prior), 91 / 102);
  close(betaMean(pooledPrior(0, 0)), 0.5);
});

Deno.test("log-normal: the NIG update matches the closed form", () => {
  const prior = { mu: 0, kappa: 1, alpha: 2, beta: 1 };
  const xs = [1, 2, 3];
  const data = { n: 3, sum: 6, sumSq: 14 };
  const post = nigPosterior(prior, data);
  // kappa_n = 4, mu_n = (0 + 3·2)/4, alpha_n = 2 + 3/2,
  // beta_n = 1 + Σ(x − 2)²/2 + 1·3·(2 − 0)²/(2·4) = 1 + 1 + 1.5.
  assert.deepEqual(post, { mu: 1.5, kappa: 4, alpha: 3.5, beta: 3.5 });
  assert.equal(xs.length, data.n);
  close(medianMs(post), Math.exp(1.5));
  close(meanMs(post), Math.exp(1.5 + (3.5 / 2.5) / 2));
  // mu | data ~ t(2·3.5 = 7 dof), scale sqrt(3.5 / (3.5·4)) = 0.5; t_7(0.95) = 1.894578605.
  const [lo, hi] = medianInterval(post);
  close(Math.log(lo), 1.5 - 1.894578605 * 0.5, 1e-6);
  close(Math.log(hi), 1.5 + 1.894578605 * 0.5, 1e-6);
});

Deno.test("log-normal: many runs pull the posterior to the data, the interval narrows", () => {
  const n = 10_000;
  const x = Math.log(20);
  const post = nigPosterior(pooledNig({ n: 0, sum: 0, sumSq: 0 }), {
    n,
    sum: n * x,
    sumSq: n * (x * x + 0.01),
  });
  close(medianMs(post), 20, 0.01);
  const [lo, hi] = medianInterval(post);
  assert.ok(hi / lo < 1.01, `${lo}..${hi}`);
});

Deno.test("forgetting: half the weight per half-life, in one step or many", () => {
  assert.equal(decayFactor(3_600_000, 3_600_000), 0.5);
  close(decayFactor(7_200_000, 3_600_000), 0.25);
  assert.equal(decayFactor(1_000, 0), 1, "no half-life, no forgetting");
  // The store's fold: one write an hour later halves the old sums, then adds the batch.
  const one = modelAfter(null, 0, { runs: 10, failures: 2, meanMs: 100 }, 0);
  const later = modelAfter(one, 0, {
    runs: 1,
    failures: 0,
    meanMs: 100,
    halfLifeMs: 3_600_000,
  }, 3_600_000);
  close(later.weight, 6);
  close(later.failWeight, 1);
  close(later.logSum, 6 * Math.log(100));
  // Two half-hour steps forget as much as one hour-long step.
  const idle = { runs: 0, failures: 0, meanMs: 100, halfLifeMs: 3_600_000 };
  const halfway = modelAfter(one, 0, idle, 1_800_000);
  close(modelAfter(halfway, 1_800_000, idle, 3_600_000).weight, 5);
});

function stats(type: string, runs: number, failures: number, ms: number, at = 0): TypeStats {
  return {
    type,
    runs,
    failures,
    avgMs: ms,
    updatedAt: at,
    model: modelAfter(null, at, { runs, failures, meanMs: ms }, at),
  };
}

Deno.test("a new type starts at the pooled prior: the fleet's average", () => {
  const fleet = stats("*", 200, 20, 50);
  const fresh = learnedFigures("new", null, fleet, 0, 3_600_000);
  assert.equal(fresh.runs, 0);
  close(fresh.success, 181 / 202);
  close(fresh.medianMs, 50, 1e-9);
  const known = learnedFigures("old", stats("old", 50, 0, 10), fleet, 0, 3_600_000);
  assert.ok(known.success > fresh.success && known.medianMs < fresh.medianMs);
});

Deno.test("forgetting a type's runs moves it back toward the prior", () => {
  const fleet = stats("*", 200, 20, 50, 0);
  const own = stats("slow", 50, 0, 500, 0);
  const now = learnedFigures("slow", own, fleet, 0, 3_600_000);
  const day = learnedFigures("slow", own, fleet, 86_400_000, 3_600_000);
  assert.ok(day.runs < 0.01 && now.runs === 50);
  assert.ok(Math.abs(day.medianMs - 50) < Math.abs(now.medianMs - 50));
});
