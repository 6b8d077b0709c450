/**
 * Removing a PostgreSQL source removes what it installed: the
 * `un_notify_change` trigger on each of its tables, and the shared trigger
 * function once no trigger of un uses it any more. (A scanner that merely
 * stops leaves its triggers: a restart or another process picks up where it
 * left off; see postgres-sql.ts.)
 *
 * A table another remaining postgres source watches keeps its trigger: the
 * trigger name is shared, so dropping it would silence that source. Sources
 * count as the same database unless their URLs clearly name different ones
 * (a kept trigger costs a `pg_notify` per row change; a dropped one that
 * another source needs loses its changes).
 */

// @ts-types="@types/pg"
import pg from "pg";
import { errorText } from "../errors.ts";
import type { Config, SourceSpec } from "../config/load.ts";
import type { Logger } from "../log.ts";
import { parsedSources, type StoredSource } from "../store/source-store.ts";
import { checkPostgresHost } from "./admit.ts";
import { parseTableName, type TableName } from "./postgres-names.ts";
import { redactText } from "./redact.ts";
import { TRIGGER } from "./postgres-sql.ts";
import type { Queryable } from "./postgres-sql.ts";

type PostgresSpec = Extract<SourceSpec, { kind: "postgres" }>;

/**
 * What a clean-up removed: the tables whose trigger went (`schema.table`)
 * and the trigger functions dropped (qualified names).
 */
export interface Removed {
  triggers: string[];
  functions: string[];
}

/** host:port/database of a connection URL, or null when it does not parse (then: maybe the same). */
function databaseOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    const host = parsed.searchParams.get("host") || parsed.hostname || "local";
    return `${decodeURIComponent(host)}:${parsed.port || "5432"}${parsed.pathname || "/"}`;
  } catch {
    return null;
  }
}

/** Could the two names mean the same table? An unqualified name may be in any schema. */
function sameTable(a: TableName, b: TableName): boolean {
  return a.name === b.name && (a.schema === null || b.schema === null || a.schema === b.schema);
}

function parsed(written: string): TableName | null {
  try {
    return parseTableName(written);
  } catch {
    return null;
  }
}

/**
 * The tables of a removed source whose trigger can go: those no other
 * remaining postgres source (possibly on the same database) watches.
 *
 * @example
 * ```ts
 * tablesToRelease(removed, [other]); // [{ schema: null, name: "orders" }]
 * ```
 */
export function tablesToRelease(removed: PostgresSpec, others: readonly SourceSpec[]): TableName[] {
  const db = databaseOf(removed.url);
  const kept: TableName[] = [];
  for (const other of others) {
    if (other.kind !== "postgres" || other.id === removed.id) continue;
    const otherDb = databaseOf(other.url);
    if (db !== null && otherDb !== null && db !== otherDb) continue;
    for (const written of other.tables) {
      const name = parsed(written);
      if (name) kept.push(name);
    }
  }
  return removed.tables
    .map(parsed)
    .filter((name): name is TableName => name !== null)
    .filter((name) => !kept.some((k) => sameTable(k, name)));
}

/**
 * Drops un's trigger on each table, then every un trigger function left
 * without a trigger (those the dropped triggers used, and the one in the
 * connection's schema), in one transaction under the lock the installs take.
 * A table that does not exist (any more) is skipped.
 */
export async function dropTriggers(db: Queryable, tables: readonly TableName[]): Promise<Removed> {
  const removed: Removed = { triggers: [], functions: [] };
  await db.query("BEGIN");
  try {
    await db.query("SELECT pg_advisory_xact_lock(hashtext($1))", [TRIGGER]);
    const functions = new Set<number>();
    for (const table of tables) {
      const written = table.schema === null
        ? pg.escapeIdentifier(table.name)
        : `${pg.escapeIdentifier(table.schema)}.${pg.escapeIdentifier(table.name)}`;
      const { rows } = await db.query<{ fn: number; schema: string; name: string }>(
        `SELECT t.tgfoid::int8 AS fn, n.nspname::text AS schema, c.relname::text AS name
           FROM pg_trigger t
           JOIN pg_class c ON c.oid = t.tgrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_proc p ON p.oid = t.tgfoid
          WHERE t.tgrelid = to_regclass($1) AND t.tgname = $2 AND p.proname = $2`,
        [written, TRIGGER],
      );
      for (const row of rows) {
        const sql = `${pg.escapeIdentifier(row.schema)}.${pg.escapeIdentifier(row.name)}`;
        await db.query(`DROP TRIGGER ${pg.escapeIdentifier(TRIGGER)} ON ${sql}`);
        functions.add(Number(row.fn));
        removed.triggers.push(`${row.schema}.${row.name}`);
      }
    }
    const own = await db.query<{ fn: number }>(
      `SELECT p.oid::int8 AS fn FROM pg_proc p
        WHERE p.proname = $1 AND p.pronamespace = (
          SELECT oid FROM pg_namespace WHERE nspname = current_schema())`,
      [TRIGGER],
    );
    own.rows.forEach((row) => functions.add(Number(row.fn)));
    for (const fn of functions) {
      // Dropped only when no trigger (of any table, of any source) still uses it.
      const { rows } = await db.query<{ schema: string; used: boolean }>(
        `SELECT n.nspname::text AS schema,
                EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgfoid = p.oid) AS used
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE p.oid = $1::int8::oid AND p.proname = $2`,
        [fn, TRIGGER],
      );
      const row = rows[0];
      if (!row || row.used) continue;
      const name = `${pg.escapeIdentifier(row.schema)}.${pg.escapeIdentifier(TRIGGER)}`;
      await db.query(`DROP FUNCTION ${name}()`);
      removed.functions.push(name);
    }
    await db.query("COMMIT");
  } catch (err) {
    await db.query("ROLLBACK").catch(() => {});
    throw err;
  }
  return removed;
}

/**
 * Connects with the source's URL and drops the triggers of `tables` (see
 * {@link dropTriggers}). The connection is closed whatever happens.
 */
export async function removeSourceTriggers(
  spec: PostgresSpec,
  tables: readonly TableName[],
): Promise<Removed> {
  const client = new pg.Client({
    connectionString: spec.url,
    application_name: `un:${spec.id}:cleanup`.slice(0, 63),
    connectionTimeoutMillis: 10_000,
  });
  // A socket error after the work is done must not become an uncaught one.
  client.on("error", () => {});
  try {
    await client.connect();
    return await dropTriggers(client, tables);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * The clean-up after `DELETE /un/sources/:id` of a postgres source, run by
 * the process that took the request once its own scanner stopped: the
 * source's triggers go (except on tables another source watches), and the
 * function once unused. A source added at run time connects only to a host
 * `http.allow` still covers. A failure is logged with what to drop by hand;
 * it never fails the delete, which is done.
 */
export async function cleanUpRemovedSource(
  source: StoredSource,
  remaining: readonly StoredSource[],
  config: Config,
  log: Logger,
): Promise<void> {
  if (source.kind !== "postgres") return;
  if (source.spec?.kind !== "postgres") {
    log.warn(
      "removed postgres source: its stored definition no longer parses; drop its triggers by hand",
      {
        source: source.id,
        error: source.spec === null ? source.error : `kind ${source.spec.kind}`,
      },
    );
    return;
  }
  const spec = source.spec;
  const others = parsedSources(remaining).filter((s) => s.id !== source.id).map((s) => s.spec);
  const tables = tablesToRelease(spec, others);
  try {
    if (source.origin === "api") await checkPostgresHost(spec.url, config.http.allow);
    const removed = await removeSourceTriggers(spec, tables);
    log.info("removed postgres source: its triggers dropped", {
      source: source.id,
      triggers: removed.triggers.join(",") || "(none)",
      functions: removed.functions.join(",") || "(kept: still used)",
    });
  } catch (error) {
    log.warn("removed postgres source: its triggers could not be dropped; drop them by hand", {
      source: source.id,
      sql: tables.map((t) =>
        `DROP TRIGGER ${TRIGGER} ON ${t.schema ? `${t.schema}.` : ""}${t.name}`
      )
        .join("; "),
      error: redactText(errorText(error)),
    });
  }
}
