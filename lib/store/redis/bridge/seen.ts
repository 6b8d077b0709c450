/**
 * A bounded, time-limited set of event ids: the broadcast side's memory of
 * what it delivered, so an event published twice (an outbound batch retried
 * after a lost reply) reaches local subscribers once.
 */

/**
 * Ids seen within the last `ttlMs`, at most `max` of them.
 *
 * @example
 * ```ts
 * const seen = new SeenIds(600_000, 100_000);
 * seen.firstTime("01J...", Date.now()); // true
 * seen.firstTime("01J...", Date.now()); // false
 * ```
 */
export class SeenIds {
  /** Id → expiry; a Map keeps insertion order, so the oldest come first. */
  readonly #expiry = new Map<string, number>();

  constructor(readonly ttlMs: number, readonly max: number) {}

  /** True the first time `id` is offered within the TTL; remembers it. */
  firstTime(id: string, now: number): boolean {
    this.#prune(now);
    const until = this.#expiry.get(id);
    if (until !== undefined && until > now) return false;
    this.#expiry.delete(id);
    this.#expiry.set(id, now + this.ttlMs);
    return true;
  }

  /** Ids remembered. */
  get size(): number {
    return this.#expiry.size;
  }

  #prune(now: number): void {
    for (const [id, until] of this.#expiry) {
      if (until > now && this.#expiry.size < this.max) break;
      this.#expiry.delete(id);
    }
  }
}
