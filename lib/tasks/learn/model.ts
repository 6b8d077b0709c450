/**
 * The learned figures of one task type (or feature key): the Beta–Bernoulli
 * success model and the log-normal run-time model, both with the fleet's
 * pooled statistics as their prior, read with forgetting up to now.
 *
 * Run statistics are kept under the type (or the `prioritizer.scoreBy` key,
 * e.g. "embed:.md") and under {@link FLEET_KEY}, which every run also feeds:
 * the pooled statistics the empirical-Bayes prior is drawn from.
 */

import { renderTemplate } from "../../hooks/rules.ts";
import type { LearnedTerm } from "../task.ts";
import { type RunModel, storedModel, type TypeStats } from "../../store/types.ts";
import { betaInterval, betaMean, betaPosterior, pooledPrior } from "./beta.ts";
import { decayFactor } from "./forget.ts";
import { meanMs, medianInterval, medianMs, nigPosterior, pooledNig } from "./lognormal.ts";

/** The statistics key every run also counts under: all types pooled. */
export const FLEET_KEY = "*";

/**
 * The key a task's runs are learned under: its type, or the `scoreBy`
 * template rendered over it (placeholder rules of hook templates).
 */
export function statsKey(scoreBy: string | undefined, task: { type: string; payload: unknown }) {
  return scoreBy === undefined ? task.type : renderTemplate(scoreBy, task);
}

/** What the model says about one key: a learned term without the bonus it makes. */
export type LearnedFigures = Omit<LearnedTerm, "pooledPerSecond" | "levels" | "maxLevels">;

/** The model decayed from its last write to `now`. */
function decayed(stats: TypeStats | null, now: number, halfLifeMs: number): RunModel {
  if (stats === null) return { weight: 0, failWeight: 0, logSum: 0, logSqSum: 0 };
  const m = storedModel(stats);
  const d = decayFactor(now - stats.updatedAt, halfLifeMs);
  return {
    weight: m.weight * d,
    failWeight: m.failWeight * d,
    logSum: m.logSum * d,
    logSqSum: m.logSqSum * d,
  };
}

/**
 * The posterior figures of `key` from its statistics and the fleet's (the
 * prior), both decayed to `now`. With no statistics of its own, a key gets the
 * pooled prior's figures: a new type starts at the fleet's average.
 */
export function learnedFigures(
  key: string,
  stats: TypeStats | null,
  fleet: TypeStats | null,
  now: number,
  halfLifeMs: number,
): LearnedFigures {
  const own = decayed(stats, now, halfLifeMs);
  const pool = decayed(fleet, now, halfLifeMs);
  const success = betaPosterior(
    pooledPrior(pool.weight - pool.failWeight, pool.failWeight),
    own.weight - own.failWeight,
    own.failWeight,
  );
  const time = nigPosterior(
    pooledNig({ n: pool.weight, sum: pool.logSum, sumSq: pool.logSqSum }),
    { n: own.weight, sum: own.logSum, sumSq: own.logSqSum },
  );
  const p = betaMean(success);
  const mean = meanMs(time);
  return {
    key,
    runs: own.weight,
    success: p,
    successInterval: betaInterval(success),
    medianMs: medianMs(time),
    medianInterval: medianInterval(time),
    meanMs: mean,
    perSecond: p / (mean / 1_000),
  };
}

/**
 * The learned score in priority levels, 0..`weight`: the key's successes per
 * second relative to the pooled prior's, r, mapped by r / (1 + r). A key at
 * the fleet's average gets half the weight; twice as good, two thirds; the
 * bound holds however extreme the figures.
 */
export function scoreLevels(figures: LearnedFigures, pooled: LearnedFigures, weight: number) {
  const r = figures.perSecond / pooled.perSecond;
  if (!Number.isFinite(r)) return r > 0 ? weight : 0;
  return weight * (r / (1 + r));
}
