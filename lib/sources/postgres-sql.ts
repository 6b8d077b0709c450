/**
 * The SQL side of the PostgreSQL source: a configured table's lookup in the
 * catalog, the shared trigger that `pg_notify`s each row change, and the
 * catch-up queries. Every identifier reaches SQL through `escapeIdentifier`
 * and every value through a bind parameter (or `escapeLiteral` where SQL
 * allows no parameter, as in trigger arguments).
 *
 * The triggers stay installed when a scanner stops: another `un` process (or a
 * restart of this one) may be listening on the same tables, and a trigger
 * nobody listens to costs one `pg_notify` per row change, which PostgreSQL
 * drops when no session listens. Removing the source (`DELETE /un/sources/:id`)
 * drops them (postgres-cleanup.ts).
 */

// @ts-types="@types/pg"
import pg from "pg";
import type { Json } from "../events/cloud-event.ts";
import { type TableName, TableProblem } from "./postgres-names.ts";

/** Channel every `un` trigger notifies. Sources share it and filter by table. */
export const CHANNEL = "un_changes";

/** Name of the shared trigger function and of the trigger on each table. */
export const TRIGGER = "un_notify_change";

/** Rows one catch-up query returns at most (plus the rows tied with the last one). */
export const CATCH_UP_PAGE = 500;

/** The part of `pg.Client` these helpers use (a `pg.PoolClient` fits too). */
export type Queryable = Pick<pg.ClientBase, "query">;

/** A watched table as found in the catalog. */
export interface WatchedTable {
  schema: string;
  name: string;
  /** `schema.table`: the event subject, and the key of the table's catch-up cursor. */
  key: string;
  /** Quoted, schema-qualified name, safe to put in SQL. */
  sql: string;
  /** Primary-key columns in key order. */
  pk: string[];
}

const ident = pg.escapeIdentifier;

/**
 * Finds a configured table in the catalog, with its primary key. Throws an
 * error that names the table when it is missing, not a table, has no primary
 * key or lacks the catch-up column.
 */
export async function resolveTable(
  db: Queryable,
  table: TableName,
  catchUpColumn: string | null,
): Promise<WatchedTable> {
  const written = table.schema === null
    ? ident(table.name)
    : `${ident(table.schema)}.${ident(table.name)}`;
  const { rows } = await db.query<
    { schema: string; name: string; kind: string; pk: string[]; has_column: boolean }
  >(
    `SELECT n.nspname::text AS schema, c.relname::text AS name, c.relkind::text AS kind,
       ARRAY(SELECT a.attname::text
               FROM pg_index i
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
              WHERE i.indrelid = c.oid AND i.indisprimary
              ORDER BY array_position(i.indkey::int2[], a.attnum)) AS pk,
       EXISTS (SELECT 1 FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attname = $2 AND a.attnum > 0
                  AND NOT a.attisdropped) AS has_column
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = to_regclass($1)`,
    [written, catchUpColumn ?? ""],
  );
  const row = rows[0];
  if (!row) {
    throw new TableProblem(`table ${written} does not exist (or is not visible to this user)`);
  }
  const key = `${row.schema}.${row.name}`;
  if (row.kind !== "r" && row.kind !== "p") throw new TableProblem(`${key} is not a table`);
  if (row.pk.length === 0) {
    throw new TableProblem(`table ${key} has no primary key: un needs one to name the changed row`);
  }
  if (catchUpColumn !== null && !row.has_column) {
    throw new TableProblem(`table ${key} has no column ${ident(catchUpColumn)} (catchUpColumn)`);
  }
  return {
    schema: row.schema,
    name: row.name,
    key,
    sql: `${ident(row.schema)}.${ident(row.name)}`,
    pk: row.pk,
  };
}

/**
 * The shared trigger function. Arguments: the catch-up column (or '') then the
 * primary-key columns. It sends only the key and the cursor value, never the
 * row: a NOTIFY payload must stay under 8000 bytes. A key too big for that is
 * sent as `pk: null` rather than failing the user's write. `TimeZone` is pinned
 * to UTC so a timestamp cursor reads the same whichever session wrote the row.
 * `to_jsonb(row)` costs a conversion of the whole row per change; it is what
 * lets one function serve every table.
 */
function triggerFunctionSql(schema: string): string {
  return `CREATE OR REPLACE FUNCTION ${ident(schema)}.${TRIGGER}() RETURNS trigger
LANGUAGE plpgsql SET "TimeZone" = 'UTC' AS $un$
DECLARE
  rec jsonb;
  pk jsonb := '{}'::jsonb;
  payload text;
BEGIN
  IF TG_OP = 'DELETE' THEN rec := to_jsonb(OLD); ELSE rec := to_jsonb(NEW); END IF;
  FOR i IN 1 .. TG_NARGS - 1 LOOP
    pk := pk || jsonb_build_object(TG_ARGV[i], rec -> TG_ARGV[i]);
  END LOOP;
  payload := jsonb_build_object('schema', TG_TABLE_SCHEMA, 'table', TG_TABLE_NAME, 'op', TG_OP,
    'pk', pk, 'cursor', CASE WHEN TG_ARGV[0] <> '' THEN rec ->> TG_ARGV[0] END)::text;
  IF octet_length(payload) > 7900 THEN
    payload := jsonb_build_object('schema', TG_TABLE_SCHEMA, 'table', TG_TABLE_NAME, 'op', TG_OP,
      'pk', NULL, 'cursor', NULL)::text;
  END IF;
  PERFORM pg_notify('${CHANNEL}', payload);
  RETURN NULL;
END
$un$`;
}

async function inTransaction(db: Queryable, body: () => Promise<void>): Promise<void> {
  await db.query("BEGIN");
  try {
    // Two processes replacing the function at once fail with "tuple
    // concurrently updated"; the lock makes them take turns.
    await db.query("SELECT pg_advisory_xact_lock(hashtext($1))", [TRIGGER]);
    await body();
    await db.query("COMMIT");
  } catch (err) {
    await db.query("ROLLBACK").catch(() => {});
    throw err;
  }
}

/**
 * Creates (or replaces) the shared trigger function in the connection's
 * current schema and returns its quoted, qualified name.
 */
export async function installTriggerFunction(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ schema: string | null }>(
    "SELECT current_schema()::text AS schema",
  );
  const schema = rows[0]?.schema;
  if (!schema) throw new Error("no schema of search_path exists to hold the trigger function");
  await inTransaction(db, () => db.query(triggerFunctionSql(schema)).then(() => {}));
  return `${ident(schema)}.${TRIGGER}`;
}

/**
 * Installs the change trigger on one table, replacing an older one in the same
 * transaction so no change slips through in between.
 */
export async function installTrigger(
  db: Queryable,
  fn: string,
  table: WatchedTable,
  catchUpColumn: string | null,
): Promise<void> {
  const args = [catchUpColumn ?? "", ...table.pk].map(pg.escapeLiteral).join(", ");
  await inTransaction(db, async () => {
    await db.query(`DROP TRIGGER IF EXISTS ${TRIGGER} ON ${table.sql}`);
    await db.query(
      `CREATE TRIGGER ${TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON ${table.sql}
       FOR EACH ROW EXECUTE FUNCTION ${fn}(${args})`,
    );
  });
}

/** One row a catch-up query found. */
export interface CatchUpRow {
  pk: Record<string, Json>;
  /** The catch-up column's value as the trigger sends it (text of its JSON form). */
  cursor: string;
}

/**
 * One page of rows whose catch-up column is past `after` (all non-null rows
 * when `after` is null), in column order: {@link CATCH_UP_PAGE} rows plus any
 * tied with the last, so the next page can start strictly after it. Returns
 * the rows and whether more may follow. The connection must use `TimeZone`
 * UTC so cursors read like the trigger's.
 */
export async function catchUpPage(
  db: Queryable,
  table: WatchedTable,
  column: string,
  after: string | null,
): Promise<{ rows: CatchUpRow[]; more: boolean }> {
  const col = ident(column);
  const from = after === null ? `IS NOT NULL` : `> $1`;
  const pk = table.pk.map((c) => `${pg.escapeLiteral(c)}, t.${ident(c)}`).join(", ");
  const params: (string | number)[] = after === null ? [] : [after];
  params.push(CATCH_UP_PAGE - 1);
  const offset = `$${params.length}`;
  // The "edge" is the page's last value; taking every row up to and including
  // it keeps rows that share one timestamp on the same page.
  const { rows } = await db.query<CatchUpRow & { edge: boolean }>(
    `WITH edge AS (
       SELECT s.${col} AS v FROM ${table.sql} s WHERE s.${col} ${from}
       ORDER BY s.${col} OFFSET ${offset} LIMIT 1)
     SELECT jsonb_build_object(${pk}) AS pk, to_jsonb(t.${col}) #>> '{}' AS cursor,
            EXISTS (SELECT 1 FROM edge) AS edge
       FROM ${table.sql} t
      WHERE t.${col} ${from}
        AND (NOT EXISTS (SELECT 1 FROM edge) OR t.${col} <= (SELECT v FROM edge))
      ORDER BY t.${col}`,
    params,
  );
  return { rows: rows.map(({ pk, cursor }) => ({ pk, cursor })), more: rows[0]?.edge ?? false };
}

/**
 * The greatest value of the catch-up column (its trigger text form), or null
 * for an empty table: where a silent first start sets the cursor.
 */
export async function latestCursor(
  db: Queryable,
  table: WatchedTable,
  column: string,
): Promise<string | null> {
  // ORDER BY … LIMIT 1 rather than max(): some orderable types (uuid) have no max.
  const col = ident(column);
  const { rows } = await db.query<{ cursor: string }>(
    `SELECT to_jsonb(t.${col}) #>> '{}' AS cursor FROM ${table.sql} t
      WHERE t.${col} IS NOT NULL ORDER BY t.${col} DESC LIMIT 1`,
  );
  return rows[0]?.cursor ?? null;
}
