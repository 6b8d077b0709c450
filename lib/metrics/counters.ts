/** Plain counters that parts outside lib/metrics/ count into. */

/**
 * Plain counters by name, for parts that count something the metrics show
 * without depending on them (the store's fault reports count
 * `un_store_resets_total` here). Labels are accepted and summed over.
 */
export class Counters {
  readonly #totals = new Map<string, number>();

  /** Adds `by` (default 1). */
  inc(name: string, _labels: Record<string, string> = {}, by = 1): void {
    this.#totals.set(name, (this.#totals.get(name) ?? 0) + by);
  }

  /** The count of `name` so far (0 if never counted). */
  total(name: string): number {
    return this.#totals.get(name) ?? 0;
  }
}
