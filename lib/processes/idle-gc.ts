/**
 * A collection once the process goes quiet after a burst, in place of V8's
 * memory reducer.
 *
 * `un start` runs with the memory reducer off (cli/start-flags.ts): after a
 * few idle seconds it collected garbage again and again, each collection
 * aging the JIT's code, until most of it was thrown away and the next burst
 * ran at cold speed. Without the reducer nothing collects while the process
 * is idle, so it kept its last burst's garbage: ~370 MB RSS with 100 000
 * tasks queued, of which 15 MB was live. This does the reducer's job once
 * per quiet spell: after a look at which no event has gone through the bus
 * since the look before, and the heap holds enough garbage to be worth it,
 * one memory-reducing collection (which also gives the emptied pages back to
 * the system). The start flags keep V8 from flushing code on its account
 * (`--no-flush-bytecode`).
 *
 * Needs `--expose-gc` (in the start flags); without it this does nothing.
 */

/** How often the process is looked at. */
export const IDLE_CHECK_MS = 1_000;
/** Garbage worth a collection: the heap over what the last one left. */
const WORTH_BYTES = 16 * 1024 * 1024;

/** V8's `gc()` under `--expose-gc`, with the options it takes. */
type ExposedGc = (options?: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

/** What the watcher reads and calls; the process's own by default. */
export interface IdleGcDeps {
  /** A count that moves whenever the process does work (events delivered). */
  activity(): number;
  heapUsed(): number;
  /** Absent when the process runs without `--expose-gc`. */
  gc?: () => void;
  /** Told after each collection (bytes before and after, and how long it took). */
  collected?(info: { beforeBytes: number; afterBytes: number; ms: number }): void;
}

function exposedGc(): (() => void) | undefined {
  const gc = (globalThis as { gc?: ExposedGc }).gc;
  if (typeof gc !== "function") return undefined;
  // "last-resort": the collection that shrinks the heap and unmaps what it
  // frees; a plain gc() leaves the pages committed.
  return () => gc({ type: "major", execution: "sync", flavor: "last-resort" });
}

/**
 * Decides, one look at a time, whether to collect: pure, so the rule is
 * testable without timers.
 */
export class IdleGcRule {
  #activity = -1;
  #afterGc = 0;

  /** True when nothing happened since the last look and the heap holds enough garbage. */
  look(activity: number, heapUsed: number): boolean {
    const idle = activity === this.#activity;
    this.#activity = activity;
    return idle && heapUsed - this.#afterGc > WORTH_BYTES;
  }

  /** Records what a collection left. */
  collected(heapUsed: number): void {
    this.#afterGc = heapUsed;
  }
}

/** Starts looking every {@link IDLE_CHECK_MS}; the returned function stops it. */
export function collectWhenIdle(deps: IdleGcDeps): () => void {
  const gc = deps.gc;
  if (!gc) return () => {};
  const rule = new IdleGcRule();
  const timer = setInterval(() => {
    const before = deps.heapUsed();
    if (!rule.look(deps.activity(), before)) return;
    const started = performance.now();
    gc();
    const after = deps.heapUsed();
    rule.collected(after);
    deps.collected?.({ beforeBytes: before, afterBytes: after, ms: performance.now() - started });
  }, IDLE_CHECK_MS);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}

/** {@link collectWhenIdle} on this process: its heap, its `gc`, `activity` as given. */
export function collectProcessWhenIdle(
  activity: () => number,
  collected: IdleGcDeps["collected"],
): () => void {
  return collectWhenIdle({
    activity,
    heapUsed: () => Deno.memoryUsage().heapUsed,
    gc: exposedGc(),
    collected,
  });
}
