/**
 * Label values from bounded sets. A label value that comes from what clients
 * send (an event type, a queue name) would otherwise make a new series for
 * every value, and Prometheus's memory grows with the series count: whatever
 * is not known, or comes after a cap, is counted under `other`.
 */

import type { CompiledHook } from "../hooks/mod.ts";
import { reservedPrefix } from "../safety/reserved-types.ts";

/** The label value of everything outside a bounded set. */
export const OTHER = "other";

/** How many `other` event types are remembered (a lookup instead of a prefix check). */
const MAX_REMEMBERED_OTHERS = 1_000;

/**
 * A label whose values are admitted while a test allows them and fewer than
 * `cap` are known; the rest are `other`.
 *
 * @example
 * ```ts
 * const queues = new BoundedLabel(100);
 * queues.of("mail"); // "mail"
 * const types = new BoundedLabel(200, (t) => handlers.has(t));
 * types.of("unknown.type"); // "other"
 * ```
 */
export class BoundedLabel {
  readonly #known = new Set<string>();

  constructor(
    private readonly cap: number,
    private readonly admit: (value: string) => boolean = () => true,
  ) {}

  /** The label value for `value`. */
  of(value: unknown): string {
    if (typeof value !== "string") return OTHER;
    if (this.#known.has(value)) return value;
    if (this.#known.size >= this.cap || !this.admit(value)) return OTHER;
    this.#known.add(value);
    return value;
  }
}

/**
 * The `type` label of `un_events_total`: its own series for the types un and
 * its sources make (the reserved prefixes: `file.*`, `task.*`, ...) and for
 * those a hook names literally; every other type counts under `other`, so a
 * client publishing random types adds one series at most.
 *
 * Counting happens per event, so the counts sit in plain objects (one
 * increment per event) and reach the Prometheus counter at scrape time.
 */
export class EventTypeCounts {
  /** Types with their own series, each with its count (bounded by `cap`). */
  readonly #slots = new Map<string, { n: number }>();
  readonly #other = { n: 0 };
  /** Types seen that count under `other`, remembered up to a bound so they cost a lookup too. */
  readonly #others = new Set<string>();
  #hooks: readonly CompiledHook[] | null = null;
  #named = new Set<string>();

  constructor(
    private readonly hooks: () => readonly CompiledHook[],
    private readonly cap = 500,
  ) {}

  /** Counts one event of `type`. */
  count(type: string): void {
    const slot = this.#slots.get(type);
    if (slot !== undefined) slot.n++;
    else this.#slotOf(type).n++;
  }

  /** Count per label value. */
  counts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [type, slot] of this.#slots) out.set(type, slot.n);
    if (this.#other.n > 0) out.set(OTHER, this.#other.n);
    return out;
  }

  #slotOf(type: string): { n: number } {
    const hooks = this.hooks();
    // Hooks change at run time (sources' hooks, the hooks API): their literal
    // names are recomputed when the list is replaced, and a type that was
    // `other` may now have its own series.
    if (hooks !== this.#hooks) {
      this.#hooks = hooks;
      this.#named = new Set(
        hooks.map((hook) => hook.spec.on).filter((on) =>
          typeof on === "string" && !on.includes("*")
        ),
      );
      this.#others.clear();
    }
    if (this.#others.has(type)) return this.#other;
    const own = reservedPrefix(type) !== null || this.#named.has(type);
    if (!own || this.#slots.size >= this.cap) {
      // Bounded like the series: past it, unknown types are decided anew each time.
      if (this.#others.size < MAX_REMEMBERED_OTHERS) this.#others.add(type);
      return this.#other;
    }
    const slot = { n: 0 };
    this.#slots.set(type, slot);
    return slot;
  }
}
