/**
 * A thin wrapper over one `DatabaseSync` connection that prepares each SQL text
 * once and reuses the statement (preparing costs more than running a small
 * statement), plus typed readers for the loosely typed rows SQLite returns.
 */

import type { DatabaseSync, SQLInputValue, SQLOutputValue, StatementSync } from "node:sqlite";

/** One row as `node:sqlite` returns it: column name to value. */
export type Row = Record<string, SQLOutputValue>;
/** Named parameters (`:name` in the SQL text). */
export type Params = Record<string, SQLInputValue>;

/**
 * Runs SQL on one connection with a statement cache.
 *
 * @example
 * ```ts
 * const sql = new Sql(new DatabaseSync(":memory:"));
 * sql.get("SELECT :a AS a", { a: 1 }); // { a: 1 }
 * ```
 */
export class Sql {
  readonly #cache = new Map<string, StatementSync>();

  constructor(readonly db: DatabaseSync) {}

  /** The prepared statement for `text` (prepared on first use). */
  statement(text: string): StatementSync {
    let statement = this.#cache.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      this.#cache.set(text, statement);
    }
    return statement;
  }

  /** First row, or undefined. */
  get(text: string, params: Params = {}): Row | undefined {
    return this.statement(text).get(params);
  }

  /** Every row. */
  all(text: string, params: Params = {}): Row[] {
    return this.statement(text).all(params);
  }

  /** Rows one at a time; stop early with `break` (the statement is reset). */
  iterate(text: string, params: Params = {}): Iterable<Row> {
    return this.statement(text).iterate(params) as Iterable<Row>;
  }

  /** Runs a change; returns how many rows it changed. */
  run(text: string, params: Params = {}): number {
    return Number(this.statement(text).run(params).changes);
  }

  /** Runs SQL without parameters (pragmas, transaction control). */
  exec(text: string): void {
    this.db.exec(text);
  }
}

/**
 * A text column.
 *
 * @example
 * ```ts
 * text({ id: "a" }, "id"); // "a"
 * ```
 */
export function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== "string") throw new Error(`column ${column}: expected text`);
  return value;
}

/**
 * A nullable text column.
 *
 * @example
 * ```ts
 * textOrNull({ key: null }, "key"); // null
 * ```
 */
export function textOrNull(row: Row, column: string): string | null {
  const value = row[column];
  return value === null || value === undefined ? null : String(value);
}

/**
 * A numeric column.
 *
 * @example
 * ```ts
 * num({ fence: 2 }, "fence"); // 2
 * ```
 */
export function num(row: Row, column: string): number {
  const value = row[column];
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  throw new Error(`column ${column}: expected a number`);
}

/**
 * A nullable numeric column.
 *
 * @example
 * ```ts
 * numOrNull({ run_at: null }, "run_at"); // null
 * ```
 */
export function numOrNull(row: Row, column: string): number | null {
  const value = row[column];
  return value === null || value === undefined ? null : Number(value);
}

/**
 * A JSON text column, parsed; SQL NULL reads as `null`. The type parameter is
 * what the writer stored there (the store is the only writer).
 *
 * @example
 * ```ts
 * json<string[]>({ depends_on: '["a"]' }, "depends_on"); // ["a"]
 * ```
 */
export function json<T>(row: Row, column: string): T | null {
  const value = row[column];
  return value === null || value === undefined ? null : JSON.parse(String(value)) as T;
}
