/**
 * Hooks added at run time on the embedded store ({@link SqliteHooks}): one
 * row per hook, its definition as JSON. The table is created here, on open,
 * so the shared schema file stays about tasks, events and sources.
 */

import { hookFromJson, type HookStore, type StoredHook } from "../hook-store.ts";
import type { SqliteRw } from "./access.ts";
import { type Row, type Sql, text } from "./statements.ts";

/** The hooks table; safe to run on every open. */
export const HOOKS_TABLE = `
CREATE TABLE IF NOT EXISTS hooks (
  id TEXT PRIMARY KEY,
  hook TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS hooks_created ON hooks(created_at, id);
`;

function hookFromRow(row: Row): StoredHook {
  return hookFromJson(text(row, "id"), text(row, "hook"));
}

/**
 * The embedded {@link HookStore}: each call one read or one group-committed
 * write. Sample counts are kept in memory: one process owns the file (its
 * lock), so it routes every event, and a count lost with a restart costs at
 * most one early or late fire.
 */
export class SqliteHooks implements HookStore {
  /** Per sampled hook: its matching events since its last fire. */
  readonly #samples = new Map<string, number>();

  /** `sql`: the connection, to create the table before the first read. */
  constructor(private readonly rw: SqliteRw, sql: Sql) {
    sql.exec(HOOKS_TABLE);
  }

  listHooks(): Promise<StoredHook[]> {
    return this.rw.read((sql: Sql) =>
      sql.all("SELECT id, hook FROM hooks ORDER BY created_at, id").map(hookFromRow)
    );
  }
  getHook(id: string): Promise<StoredHook | null> {
    return this.rw.read((sql) => {
      const row = sql.get("SELECT id, hook FROM hooks WHERE id = :id", { id });
      return row === undefined ? null : hookFromRow(row);
    });
  }
  putHook(hook: StoredHook): Promise<void> {
    this.#samples.delete(hook.id);
    return this.rw.write((sql) => {
      sql.run(
        `INSERT INTO hooks (id, hook, created_at) VALUES (:id, :hook, :createdAt)
         ON CONFLICT (id) DO UPDATE SET hook = excluded.hook, created_at = excluded.created_at`,
        { id: hook.id, hook: JSON.stringify(hook), createdAt: hook.createdAt },
      );
    }, true);
  }
  deleteHook(id: string): Promise<boolean> {
    this.#samples.delete(id);
    return this.rw.write((sql) => sql.run("DELETE FROM hooks WHERE id = :id", { id }) > 0, true);
  }
  async sampleHook(id: string, every: number): Promise<boolean> {
    const stored = await this.rw.read((sql) =>
      sql.get("SELECT 1 AS one FROM hooks WHERE id = :id", { id }) !== undefined
    );
    if (!stored) return false;
    const count = (this.#samples.get(id) ?? 0) + 1;
    this.#samples.set(id, count >= every ? 0 : count);
    return count >= every;
  }
}
