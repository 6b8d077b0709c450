/**
 * The two quantile functions the learned model needs, from jStat (one
 * dependency-free package; the @stdlib equivalents pull in ~300 packages).
 * jStat ships no types, so this module is the typed boundary around it.
 */

import jstat from "jstat";

/** The part of jStat used here. */
interface JStat {
  beta: { inv(p: number, alpha: number, beta: number): number };
  studentt: { inv(p: number, dof: number): number };
}

const { jStat } = jstat as { jStat: JStat };

/** The `p` quantile of Beta(alpha, beta). */
export function betaQuantile(p: number, alpha: number, beta: number): number {
  return jStat.beta.inv(p, alpha, beta);
}

/** The `p` quantile of Student's t with `dof` degrees of freedom (dof > 0, not necessarily whole). */
export function studentTQuantile(p: number, dof: number): number {
  return jStat.studentt.inv(p, dof);
}
