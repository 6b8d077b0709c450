/**
 * Table and column names as a user writes them in the config, read the way
 * PostgreSQL reads them: unquoted names fold to lower case, "quoted" ones are
 * taken as written. Anything else is refused before it gets near SQL.
 */

/**
 * A configured table (or column) that cannot be watched as written: a bad
 * name, a missing table, no primary key. The source watches its other tables
 * and shows this in its status; a lost connection is a different error.
 */
export class TableProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TableProblem";
  }
}

/** A table as configured: `table` or `schema.table`, identifiers already unquoted. */
export interface TableName {
  /** `null` = found through the connection's `search_path`. */
  schema: string | null;
  name: string;
}

// PostgreSQL's identifier rules: unquoted names fold to lower case, "quoted"
// ones keep their case and may hold anything but NUL ("" is a quote).
const PART = /^(?:"((?:[^"\0]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*))/;
// NAMEDATALEN - 1: PostgreSQL silently truncates longer names, which would
// make `un` watch a table other than the one named.
const MAX_IDENTIFIER_BYTES = 63;

function parseParts(input: string, what: string): string[] {
  const parts: string[] = [];
  let rest = input.trim();
  while (true) {
    const match = PART.exec(rest);
    if (!match) {
      throw new TableProblem(`${what} ${JSON.stringify(input)} is not a valid identifier`);
    }
    const part = match[1] !== undefined ? match[1].replaceAll('""', '"') : match[2].toLowerCase();
    if (new TextEncoder().encode(part).length > MAX_IDENTIFIER_BYTES) {
      throw new TableProblem(`${what} ${JSON.stringify(input)}: identifiers are at most 63 bytes`);
    }
    parts.push(part);
    rest = rest.slice(match[0].length);
    if (rest === "") return parts;
    if (!rest.startsWith(".")) {
      throw new TableProblem(`${what} ${JSON.stringify(input)} is not a valid identifier`);
    }
    rest = rest.slice(1);
  }
}

/**
 * Parses a configured table name the way PostgreSQL reads it.
 *
 * @example
 * ```ts
 * parseTableName("Orders"); // { schema: null, name: "orders" }
 * parseTableName('shop."Line Items"'); // { schema: "shop", name: "Line Items" }
 * ```
 */
export function parseTableName(input: string): TableName {
  const parts = parseParts(input, "table");
  if (parts.length > 2) {
    throw new TableProblem(`table ${JSON.stringify(input)} must be "table" or "schema.table"`);
  }
  return parts.length === 2
    ? { schema: parts[0], name: parts[1] }
    : { schema: null, name: parts[0] };
}

/**
 * Parses a configured column name (`catchUpColumn`) the way PostgreSQL reads it.
 */
export function parseColumnName(input: string): string {
  const parts = parseParts(input, "column");
  if (parts.length !== 1) {
    throw new TableProblem(`column ${JSON.stringify(input)} must be one name`);
  }
  return parts[0];
}
