/**
 * A thin wrapper over one `DatabaseSync` connection that prepares each SQL text
 * once and reuses the statement (preparing costs more than running a small
 * statement), plus typed readers for the loosely typed rows SQLite returns.
 */

import type { DatabaseSync, SQLInputValue, SQLOutputValue, StatementSync } from "node:sqlite";

/**
 * One row as `node:sqlite` returns it: column name to value.
 */
export type Row = Record<string, SQLOutputValue>;
/**
 * Named parameters (`:name` in the SQL text).
 */
export type Params = Record<string, SQLInputValue>;

/** A statement prepared from named SQL, with its parameter names in binding order. */
interface Prepared {
  statement: StatementSync;
  names: string[];
}

/**
 * Rewrites `:name` parameters to numbered ones (`?1`, `?2`, a repeated name
 * reusing its number), skipping quoted literals. Positional binding costs about
 * half of named binding in `node:sqlite` (measured 13 µs vs 25 µs for a 22-
 * parameter insert), and the SQL stays readable.
 */
function numberParameters(text: string): { text: string; names: string[] } {
  const names: string[] = [];
  const rewritten = text.split(/('(?:[^']|'')*')/).map((part, index) =>
    index % 2 === 1 ? part : part.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
      let position = names.indexOf(name);
      if (position === -1) position = names.push(name) - 1;
      return `?${position + 1}`;
    })
  ).join("");
  return { text: rewritten, names };
}

/**
 * Runs SQL on one connection with a statement cache. SQL names its parameters
 * (`:id`); an absent or undefined parameter binds as NULL.
 *
 * @example
 * ```ts
 * const sql = new Sql(new DatabaseSync(":memory:"));
 * sql.get("SELECT :a AS a", { a: 1 }); // { a: 1 }
 * ```
 */
export class Sql {
  readonly #cache = new Map<string, Prepared>();
  /** Statements that return rows as arrays: a separate cache, the setting is the statement's. */
  readonly #arrays = new Map<string, Prepared>();

  constructor(readonly db: DatabaseSync) {}

  #prepare(text: string): Prepared {
    let prepared = this.#cache.get(text);
    if (prepared === undefined) {
      const numbered = numberParameters(text);
      prepared = { statement: this.db.prepare(numbered.text), names: numbered.names };
      this.#cache.set(text, prepared);
    }
    return prepared;
  }

  #bind(text: string, params: Params): { statement: StatementSync; values: SQLInputValue[] } {
    const { statement, names } = this.#prepare(text);
    return { statement, values: names.map((name) => params[name] ?? null) };
  }

  /** First row, or undefined. */
  get(text: string, params: Params = {}): Row | undefined {
    const { statement, values } = this.#bind(text, params);
    return statement.get(...values);
  }

  /** Every row. */
  all(text: string, params: Params = {}): Row[] {
    const { statement, values } = this.#bind(text, params);
    return statement.all(...values);
  }

  /**
   * Every row as an array of its columns, in the order the SQL names them.
   * Reading rows as arrays costs less than half of reading them as objects
   * in `node:sqlite` (measured ~3 µs vs ~8 µs a row for a whole task row),
   * since no object with a property per column is built: for hot reads of
   * many columns.
   */
  allArrays(text: string, params: Params = {}): SQLOutputValue[][] {
    let prepared = this.#arrays.get(text);
    if (prepared === undefined) {
      const numbered = numberParameters(text);
      const statement = this.db.prepare(numbered.text);
      // Deno's `node:sqlite` has it (Node 24's API); its type declarations do not yet.
      (statement as StatementSync & { setReturnArrays(enabled: boolean): void })
        .setReturnArrays(true);
      prepared = { statement, names: numbered.names };
      this.#arrays.set(text, prepared);
    }
    const { statement, names } = prepared;
    // Typed for object rows; with setReturnArrays each row is an array.
    return statement.all(
      ...names.map((name) => params[name] ?? null),
    ) as unknown as SQLOutputValue[][];
  }

  // No `iterate()`: Deno's `StatementSync.iterate` ends quietly where SQLite
  // reports an error (a damaged page), so a cut-short result would pass for a
  // whole one. Page with LIMIT and `all()`, which throws.

  /** Runs a change; returns how many rows it changed. */
  run(text: string, params: Params = {}): number {
    const { statement, values } = this.#bind(text, params);
    return Number(statement.run(...values).changes);
  }

  /**
   * Runs a change whose SQL takes positional `?` parameters, bound from
   * `values` in order: for statements with many parameters (a multi-row
   * insert), where naming each would cost more than the statement saves.
   */
  runValues(text: string, values: SQLInputValue[]): number {
    return Number(this.#prepare(text).statement.run(...values).changes);
  }

  /** Every row of SQL with positional `?` parameters (see {@link Sql.runValues}). */
  allValues(text: string, values: SQLInputValue[]): Row[] {
    return this.#prepare(text).statement.all(...values);
  }

  /** Runs SQL without parameters (pragmas, transaction control). */
  exec(text: string): void {
    this.db.exec(text);
  }
}

/**
 * A text column.
 */
export function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== "string") throw new Error(`column ${column}: expected text`);
  return value;
}

/**
 * A nullable text column.
 */
export function textOrNull(row: Row, column: string): string | null {
  const value = row[column];
  return value === null || value === undefined ? null : String(value);
}

/**
 * A numeric column.
 */
export function num(row: Row, column: string): number {
  const value = row[column];
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  throw new Error(`column ${column}: expected a number`);
}

/**
 * A nullable numeric column.
 */
export function numOrNull(row: Row, column: string): number | null {
  const value = row[column];
  return value === null || value === undefined ? null : Number(value);
}

/**
 * A JSON text column, parsed; SQL NULL reads as `null`. The type parameter is
 * what the writer stored there (the store is the only writer).
 */
export function json<T>(row: Row, column: string): T | null {
  const value = row[column];
  return value === null || value === undefined ? null : JSON.parse(String(value)) as T;
}
