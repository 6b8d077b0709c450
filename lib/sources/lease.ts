/**
 * The lease a source is scanned under: with several processes on one Redis,
 * only the holder of `source:<id>` runs its scanner (actors/source-leader.ts).
 */

/**
 * The lease name of a source.
 *
 * @example
 * ```ts
 * await store.acquireLease(sourceLease("inbox"), PROCESS_ID, 10_000, Date.now());
 * ```
 */
export function sourceLease(id: string): string {
  return `source:${id}`;
}
