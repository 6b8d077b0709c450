/**
 * The lease a source is scanned under: with several processes on one Redis,
 * only the holder of `source:<id>` runs its scanner (actors/source-leader.ts).
 */

import type { Coordination } from "../store/types.ts";

/**
 * The lease name of a source.
 */
export function sourceLease(id: string): string {
  return `source:${id}`;
}

/**
 * The lease a scanner runs under in a cluster: the source's lease and the
 * fence its holding had when the scanner was started.
 */
export interface ScanLease {
  name: string;
  fence: number;
}

/**
 * True while the scanner's holding still stands: the lease is held, under the
 * same fence (a process that stalled past its lease finds a later fence, even
 * when it took the lease back since, and its old scanner's work is refused).
 *
 * @example
 * ```ts
 * if (!(await stillHeld(store, lease, Date.now()))) return; // another process scans it now
 * ```
 */
export async function stillHeld(
  store: Pick<Coordination, "leaseHolder">,
  lease: ScanLease,
  now: number,
): Promise<boolean> {
  const holding = await store.leaseHolder(lease.name, now);
  return holding !== null && holding.fence === lease.fence;
}
