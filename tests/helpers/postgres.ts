/**
 * The test PostgreSQL: its URL (`UN_TEST_PG_URL`, default
 * postgres://postgres@127.0.0.1:5432/test), a client of it, and the rule the
 * PostgreSQL tests share: without a server they are ignored, except under
 * CI=true where they run and fail.
 */

// @ts-types="@types/pg"
import pg from "pg";

/** The test database's URL. */
export const PG_URL = Deno.env.get("UN_TEST_PG_URL") ?? "postgres://postgres@127.0.0.1:5432/test";

/**
 * A connected client of the test database (the caller ends it), or null when
 * it does not answer within two seconds.
 */
export async function connectPg(): Promise<pg.Client | null> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    return client;
  } catch {
    await client.end().catch(() => {});
    return null;
  }
}

/** Whether the test database answers. */
export async function pgReachable(): Promise<boolean> {
  const client = await connectPg();
  await client?.end().catch(() => {});
  return client !== null;
}

/**
 * The `ignore` of a test that needs PostgreSQL: true when none answers,
 * unless CI=true (there a missing server fails the test instead).
 *
 * @example
 * ```ts
 * Deno.test({ name: "postgres: ...", ignore: await withoutPostgres(), fn });
 * ```
 */
export async function withoutPostgres(): Promise<boolean> {
  return Deno.env.get("CI") !== "true" && !(await pgReachable());
}
