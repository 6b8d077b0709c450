/**
 * Scan durations, reported by whatever ran the scan (a poll cycle, an fs
 * reconcile, a PostgreSQL catch-up; periodic or asked for) and heard by the
 * metrics of the runtime that opened the same store.
 *
 * The store object is the key: every scanner already holds it, so no new
 * dependency has to be threaded through each actor, and several runtimes in
 * one process (the tests) keep their figures apart. Nothing is kept while no
 * one listens: a report is a map lookup.
 */

/** Hears one finished scan of a source. */
export type ScanListener = (sourceId: string, durationMs: number) => void;

const listeners = new WeakMap<object, Set<ScanListener>>();

/**
 * Reports that a scan of `sourceId` took `durationMs`, to whoever listens on `store`.
 */
export function reportScan(store: object, sourceId: string, durationMs: number): void {
  const heard = listeners.get(store);
  if (heard === undefined) return;
  for (const listener of heard) listener(sourceId, Math.max(0, durationMs));
}

/**
 * Listens to the scans reported on `store`; returns the way to stop.
 */
export function onScan(store: object, listener: ScanListener): () => void {
  let heard = listeners.get(store);
  if (heard === undefined) listeners.set(store, heard = new Set());
  heard.add(listener);
  return () => heard.delete(listener);
}
