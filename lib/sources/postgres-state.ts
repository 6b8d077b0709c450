/**
 * What the PostgreSQL source remembers across reconnects and restarts: the
 * catch-up cursor of each table (the greatest catch-up column value seen) and,
 * for a short while, which row versions it has already emitted, so a change
 * seen both by catch-up and by notification is emitted once.
 */

import type { Json } from "../events/cloud-event.ts";
import type { SourceStore } from "../store/types.ts";

/** Source state key of the cursors: `{ "<schema>.<table>": "<value>" | null }`. */
export const CURSOR_KEY = "cursor";

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

function compareDecimal(a: RegExpExecArray, b: RegExpExecArray): number {
  const negA = a[1] === "-" && /[1-9]/.test(a[2] + (a[3] ?? ""));
  const negB = b[1] === "-" && /[1-9]/.test(b[2] + (b[3] ?? ""));
  if (negA !== negB) return negA ? -1 : 1;
  const sign = negA ? -1 : 1;
  const intA = BigInt(a[2]);
  const intB = BigInt(b[2]);
  if (intA !== intB) return intA < intB ? -sign : sign;
  const width = Math.max(a[3]?.length ?? 0, b[3]?.length ?? 0);
  const fracA = (a[3] ?? "").padEnd(width, "0");
  const fracB = (b[3] ?? "").padEnd(width, "0");
  return fracA === fracB ? 0 : fracA < fracB ? -sign : sign;
}

/**
 * Orders two cursor values in the column's own order. Values arrive as the
 * text of their JSON form: numbers compare as numbers (exactly, for integers
 * and `numeric`); everything else as text, which is the right order for the
 * ISO 8601 timestamps PostgreSQL writes with `TimeZone` UTC (trailing zeros of
 * the fraction are dropped and `+` sorts before digits and `.`).
 *
 * @example
 * ```ts
 * compareCursor("9", "10"); // < 0
 * compareCursor("2026-01-01T10:00:00+00:00", "2026-01-01T10:00:00.5+00:00"); // < 0
 * ```
 */
export function compareCursor(a: string, b: string): number {
  const decA = DECIMAL.exec(a);
  const decB = DECIMAL.exec(b);
  if (decA && decB) return compareDecimal(decA, decB);
  const numA = Number(a);
  const numB = Number(b);
  // Floats with exponents ("1e+20") and the like.
  if (a.trim() !== "" && b.trim() !== "" && Number.isFinite(numA) && Number.isFinite(numB)) {
    return Math.sign(numA - numB);
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Runs `write` with the newest value only: while one write is in flight, later
 * values replace each other and the last one is written next. A burst of
 * changes costs two store writes, not one per change, and writes never race.
 *
 * @example
 * ```ts
 * const save = latestWins((v: Json) => store.setSourceState("db", "cursor", v), console.error);
 * save({ "public.orders": "41" });
 * save({ "public.orders": "42" }); // only this one is written after the first
 * ```
 */
export function latestWins<T>(
  write: (value: T) => Promise<void>,
  onError: (error: unknown) => void,
): (value: T) => void {
  let running = false;
  let pending: { value: T } | null = null;
  const run = (value: T) => {
    running = true;
    write(value).catch(onError).finally(() => {
      running = false;
      const next = pending;
      pending = null;
      if (next) run(next.value);
    });
  };
  return (value) => {
    if (running) pending = { value };
    else run(value);
  };
}

/**
 * The catch-up cursor of each watched table. A table absent from the book was
 * never seen (first start: emit existing rows or take a silent baseline); a
 * table present with `null` was seen empty (every row found later is new).
 */
export class CursorBook {
  readonly #cursors: Map<string, string | null>;
  readonly #save: (value: Json) => void;

  private constructor(cursors: Map<string, string | null>, save: (value: Json) => void) {
    this.#cursors = cursors;
    this.#save = save;
  }

  /**
   * Loads the cursors a source saved.
   */
  static async load(
    store: SourceStore,
    sourceId: string,
    onError: (error: unknown) => void,
  ): Promise<CursorBook> {
    const saved = await store.getSourceState(sourceId, CURSOR_KEY);
    const cursors = new Map<string, string | null>();
    if (saved !== null && typeof saved === "object" && !Array.isArray(saved)) {
      for (const [table, value] of Object.entries(saved)) {
        if (value === null || typeof value === "string") cursors.set(table, value);
      }
    }
    const save = latestWins(
      (value: Json) => store.setSourceState(sourceId, CURSOR_KEY, value),
      onError,
    );
    return new CursorBook(cursors, save);
  }

  /**
   * The cursor of a table: `undefined` when never seen.
   */
  get(table: string): string | null | undefined {
    return this.#cursors.get(table);
  }

  /**
   * Moves a table's cursor forward to `value` (never back) and marks the table
   * seen; `null` only marks it seen. Saves when something changed.
   */
  advance(table: string, value: string | null): void {
    const current = this.#cursors.get(table);
    const known = this.#cursors.has(table);
    if (value === null ? known : current != null && compareCursor(value, current) <= 0) return;
    this.#cursors.set(table, value ?? current ?? null);
    this.#save(Object.fromEntries(this.#cursors));
  }
}

/** How long an emitted row version can absorb its twin from the other path. */
export const TWIN_WINDOW_MS = 30_000;
const MAX_REMEMBERED = 10_000;

/**
 * Row versions (`table|pk|cursor`) emitted lately and by which path. A version
 * that arrives by the other path within {@link TWIN_WINDOW_MS} is a twin and
 * is absorbed, once. Comparing with the cursor alone would not do: with an
 * `updated_at` set at transaction start, a slow transaction commits a value
 * below the cursor and would be dropped although nobody emitted it.
 */
export class RecentChanges {
  readonly #seen = new Map<string, { path: "notify" | "catchUp"; at: number }>();

  /**
   * True when `key` was emitted by the other path lately (then it is forgotten);
   * otherwise remembers it and returns false.
   *
   * @example
   * ```ts
   * recent.absorb("public.orders|{\"id\":1}|42", "catchUp", now); // false: emit it
   * recent.absorb("public.orders|{\"id\":1}|42", "notify", now); // true: a twin
   * ```
   */
  absorb(key: string, path: "notify" | "catchUp", now: number): boolean {
    this.#forgetOld(now);
    const seen = this.#seen.get(key);
    if (seen && seen.path !== path) {
      this.#seen.delete(key);
      return true;
    }
    this.#seen.delete(key); // re-insert so Map order stays oldest first
    this.#seen.set(key, { path, at: now });
    return false;
  }

  #forgetOld(now: number): void {
    for (const [key, { at }] of this.#seen) {
      if (now - at < TWIN_WINDOW_MS && this.#seen.size < MAX_REMEMBERED) break;
      this.#seen.delete(key);
    }
  }
}
