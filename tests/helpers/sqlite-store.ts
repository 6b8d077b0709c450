/**
 * An embedded store in a temp dir for one test body, closed and removed
 * after it whatever the body does.
 */

import { SqliteStore } from "../../lib/store/sqlite/store.ts";

/** Runs `body` with a fresh embedded store; closes and removes it afterwards. */
export async function withSqliteStore(body: (store: SqliteStore) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "un-store-" });
  const store = SqliteStore.open(dir);
  try {
    await body(store);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}
