/**
 * Removing a postgres source removes what it installed, black-box with a
 * real `un start` and a real PostgreSQL (`UN_TEST_PG_URL`, default
 * postgres://postgres@127.0.0.1:5432/test): its `un_notify_change` triggers
 * go, a table another source still watches keeps its trigger, and the
 * trigger function goes once no trigger uses it.
 *
 * The test works in a schema of its own (the sources' URL sets
 * `search_path`), so the function it watches is not the one other tests
 * share in `public`. Without PostgreSQL it is ignored, except under CI=true.
 */

// @ts-types="@types/pg"
import type pg from "pg";
import assert from "node:assert/strict";
import { api } from "./helpers/http.ts";
import { startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";
import { connectPg, PG_URL, withoutPostgres } from "./helpers/postgres.ts";

const ignore = await withoutPostgres();

/** Tables of `schema` that carry un's trigger, by name. */
async function triggered(db: pg.Client, schema: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname::text AS name FROM pg_trigger t
       JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND t.tgname = 'un_notify_change' ORDER BY 1`,
    [schema],
  );
  return rows.map((row) => row.name);
}

/** Whether the trigger function exists in `schema`. */
async function hasFunction(db: pg.Client, schema: string): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.proname = 'un_notify_change'`,
    [schema],
  );
  return rows.length > 0;
}

Deno.test({
  name: "postgres: removing a source drops its triggers, and the function with the last one",
  ignore,
  async fn() {
    const db = await connectPg();
    assert.ok(db, `PostgreSQL not reachable at ${PG_URL}`);
    const schema = `un_cleanup_${crypto.randomUUID().slice(0, 8)}`;
    try {
      await db.query(`CREATE SCHEMA ${schema}`);
      for (const table of ["t1", "t2", "t3"]) {
        await db.query(`CREATE TABLE ${schema}.${table} (id int PRIMARY KEY, v text)`);
      }
      const url = `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}options=${
        encodeURIComponent(`-c search_path=${schema}`)
      }`;
      await using un = await startUn({
        config: {
          http: { allow: ["127.0.0.1", "localhost", "::1"] },
          // One source from the config file, one added over the API: both kinds of origin.
          sources: [{ id: "pg-a", kind: "postgres", url, tables: ["t1", "t2"] }],
        },
      });
      const added = await api(un.url, "POST", "/un/sources/add", {
        id: "pg-b",
        kind: "postgres",
        url,
        tables: ["t2", `${schema}.t3`],
      });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      await eventually(async () => (await triggered(db, schema)).length === 3, {
        timeoutMs: 10_000,
        message: "triggers on t1, t2 and t3",
      });
      assert.ok(await hasFunction(db, schema));

      // pg-a goes: t1's trigger with it; t2 stays, pg-b watches it.
      const removedA = await api(un.url, "DELETE", "/un/sources/pg-a");
      assert.equal(removedA.status, 200, JSON.stringify(removedA.body));
      await eventually(async () => (await triggered(db, schema)).join() === "t2,t3", {
        timeoutMs: 10_000,
        message: "t1's trigger dropped, t2's and t3's kept",
      });
      assert.ok(await hasFunction(db, schema), "the function stays while triggers use it");

      // pg-b goes: no trigger of un is left, nor the function.
      const removedB = await api(un.url, "DELETE", "/un/sources/pg-b");
      assert.equal(removedB.status, 200, JSON.stringify(removedB.body));
      await eventually(
        async () => (await triggered(db, schema)).length === 0 && !await hasFunction(db, schema),
        { timeoutMs: 10_000, message: "every trigger and the function dropped" },
      );
      assert.match(un.stderrText(), /removed postgres source: its triggers dropped/);
      // Writes to the tables go on without un's trigger.
      await db.query(`INSERT INTO ${schema}.t1 VALUES (1, 'x')`);
    } finally {
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await db.end();
    }
  },
});
