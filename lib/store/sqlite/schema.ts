/**
 * Tables and indexes of the embedded store.
 *
 * JSON values (payload, result, error, explanation, resources, dependsOn, event
 * bodies, source specs) are stored as text. Every index the hot paths need is
 * partial, so each one stays as small as the set of tasks it serves:
 * claim walks `tasks_ready*` in sort order (O(log n) to the first candidate),
 * dedupe probes `tasks_live_key`, the scheduler's sweeps read `tasks_due`,
 * `tasks_lease` and `tasks_expiry`, and retention reads `tasks_finished`
 * (also to clear expired results: an index of its own for them cost every
 * success one more index write).
 *
 * SQLite uses a partial index only when the query repeats the index's WHERE
 * terms literally, so the state lists below are shared as constants and pasted
 * into the queries that must use those indexes.
 */

import type { DatabaseSync } from "node:sqlite";

/**
 * `state IN (...)` of the live states, as the partial indexes spell it.
 */
export const LIVE_STATE_SQL = "state IN ('waiting','scheduled','queued','running','retrying')";
/**
 * `state IN (...)` of live tasks that have not started (deadline and expiry sweeps).
 */
export const NOT_STARTED_SQL = "state IN ('waiting','scheduled','queued','retrying')";
/**
 * `state IN (...)` of the states that wait for a `runAt`.
 */
export const DUE_STATE_SQL = "state IN ('scheduled','retrying')";
/**
 * `state IN (...)` of the terminal states.
 */
export const TERMINAL_STATE_SQL = "state IN ('succeeded','failed','dead','cancelled','expired')";

/**
 * Bumped when the schema changes in a way `CREATE ... IF NOT EXISTS` cannot
 * express. 2: `tasks.rate_group` (added to a version-1 file by {@link MIGRATIONS});
 * 3: `tasks.parent_id` and `tasks.batch_id` (fan-out and batches).
 */
const SCHEMA_VERSION = 3;

/** Columns added after version 1: each added to a file whose `tasks` lacks it. */
const MIGRATIONS: ReadonlyArray<{ column: string; add: string }> = [
  { column: "rate_group", add: "ALTER TABLE tasks ADD COLUMN rate_group TEXT" },
  { column: "parent_id", add: "ALTER TABLE tasks ADD COLUMN parent_id TEXT" },
  { column: "batch_id", add: "ALTER TABLE tasks ADD COLUMN batch_id TEXT" },
];

/**
 * Made after the migrations, as they name columns an older file gains only
 * there. A batch's tasks by state: its counts, and whether any is still live.
 */
const AFTER_MIGRATIONS = `
CREATE INDEX IF NOT EXISTS tasks_batch ON tasks(batch_id, state) WHERE batch_id IS NOT NULL;
`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  queue TEXT NOT NULL,
  payload TEXT NOT NULL,
  priority INTEGER NOT NULL,
  sort_key REAL NOT NULL,
  score REAL NOT NULL,
  explanation TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  max_attempts INTEGER NOT NULL,
  progress REAL NOT NULL,
  progress_message TEXT,
  result TEXT,
  error TEXT,
  depends_on TEXT NOT NULL,
  run_at INTEGER,
  deadline INTEGER,
  expires_at INTEGER,
  timeout_ms INTEGER,
  key TEXT,
  resources TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  enqueued_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  worker_id TEXT,
  fence INTEGER NOT NULL,
  lease_until INTEGER,
  correlation_id TEXT,
  rate_group TEXT,
  parent_id TEXT,
  batch_id TEXT
);
CREATE INDEX IF NOT EXISTS tasks_ready ON tasks(sort_key, id, expires_at, resources) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS tasks_ready_by_queue ON tasks(queue, sort_key, id, expires_at, resources)
  WHERE state = 'queued';
CREATE UNIQUE INDEX IF NOT EXISTS tasks_live_key ON tasks(key)
  WHERE key IS NOT NULL AND ${LIVE_STATE_SQL};
CREATE INDEX IF NOT EXISTS tasks_by_key ON tasks(key, created_at, id) WHERE key IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_due ON tasks(run_at, id) WHERE ${DUE_STATE_SQL};
-- Bounded queues count their scheduled and retrying tasks by queue (queue-bound.ts).
CREATE INDEX IF NOT EXISTS tasks_pending_by_queue ON tasks(queue) WHERE ${DUE_STATE_SQL};
CREATE INDEX IF NOT EXISTS tasks_lease ON tasks(lease_until, id) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS tasks_expiry ON tasks(expires_at, id)
  WHERE expires_at IS NOT NULL AND ${NOT_STARTED_SQL};
CREATE INDEX IF NOT EXISTS tasks_deadline ON tasks(deadline, id)
  WHERE deadline IS NOT NULL AND ${NOT_STARTED_SQL};
CREATE INDEX IF NOT EXISTS tasks_finished ON tasks(finished_at, id) WHERE ${TERMINAL_STATE_SQL};
DROP INDEX IF EXISTS tasks_result_ttl;
CREATE INDEX IF NOT EXISTS tasks_created ON tasks(created_at, id);

-- One row per dependency edge: the reverse index finds the dependents to
-- release or fail when a task finishes.
CREATE TABLE IF NOT EXISTS task_deps (
  task_id TEXT NOT NULL,
  depends_on TEXT NOT NULL,
  PRIMARY KEY (task_id, depends_on)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS task_deps_reverse ON task_deps(depends_on, task_id);
-- A removed task takes its own edges with it; edges pointing at it stay, and
-- a dependency that no longer exists counts as satisfied (only succeeded tasks
-- can be trimmed while something still waits on them).
CREATE TRIGGER IF NOT EXISTS tasks_drop_edges AFTER DELETE ON tasks BEGIN
  DELETE FROM task_deps WHERE task_id = old.id;
END;

-- One row per batch: when it began and when its completion was announced.
CREATE TABLE IF NOT EXISTS batches (
  id TEXT PRIMARY KEY,
  parent_id TEXT,
  created_at INTEGER NOT NULL,
  completed_at INTEGER
);
-- Listings newest first: all or open batches by when they began, announced
-- ones by when (retention removes those announced before a cutoff by it too).
CREATE INDEX IF NOT EXISTS batches_by_created ON batches(created_at, id);
CREATE INDEX IF NOT EXISTS batches_by_completed ON batches(completed_at, id)
  WHERE completed_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  body TEXT NOT NULL
);
-- (type) holds the rowid too: an exact type reads in log order by index.
CREATE INDEX IF NOT EXISTS events_by_type_seq ON events(type);
DROP INDEX IF EXISTS events_by_type;
CREATE INDEX IF NOT EXISTS events_by_time ON events(time_ms);

CREATE TABLE IF NOT EXISTS type_stats (
  type TEXT PRIMARY KEY,
  runs INTEGER NOT NULL,
  failures INTEGER NOT NULL,
  avg_ms REAL NOT NULL,
  updated_at INTEGER NOT NULL
);
-- The learned model's forgetting-weighted sums per type (lib/tasks/learn/), as
-- of type_stats.updated_at; a table of its own so older stores gain it on open.
CREATE TABLE IF NOT EXISTS type_model (
  type TEXT PRIMARY KEY,
  weight REAL NOT NULL,
  fail_weight REAL NOT NULL,
  log_sum REAL NOT NULL,
  log_sq_sum REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS sources (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  spec TEXT NOT NULL,
  origin TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sources_created ON sources(created_at, id);
CREATE TABLE IF NOT EXISTS source_state (
  source_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (source_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS source_files (
  source_id TEXT NOT NULL,
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime_ms REAL NOT NULL,
  PRIMARY KEY (source_id, path)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS leases (
  name TEXT PRIMARY KEY,
  holder TEXT,
  fence INTEGER NOT NULL,
  until INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ticks (
  name TEXT NOT NULL,
  tick INTEGER NOT NULL,
  PRIMARY KEY (name, tick)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS processes (
  id TEXT PRIMARY KEY,
  record TEXT NOT NULL,
  until INTEGER NOT NULL
);
-- One row the health check rewrites while the disk is full, to learn when
-- writes reach the disk again without waiting for a client's write.
CREATE TABLE IF NOT EXISTS store_probe (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL
);
`;

/**
 * Sets the connection up (WAL, `synchronous=NORMAL`, busy timeout) and creates
 * any missing table or index. Safe to run on every open.
 *
 * `synchronous=NORMAL` in WAL mode keeps every committed transaction through a
 * `kill -9` (measured on this project's machine); only a power loss can take
 * the last ones.
 */
export function applySchema(db: DatabaseSync): void {
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA busy_timeout = 5000");
  // Checkpoints are where NORMAL syncs to disk; one every 10 000 WAL pages
  // (~40 MB) instead of 1 000 measured +35 % on one-task commits. The limit
  // shrinks the WAL file back after a checkpoint.
  db.exec("PRAGMA wal_autocheckpoint = 10000");
  db.exec("PRAGMA journal_size_limit = 67108864");
  db.exec("PRAGMA cache_size = -32768");
  db.exec("PRAGMA foreign_keys = OFF");
  const row = db.prepare("PRAGMA user_version").get();
  const version = Number(row?.user_version ?? 0);
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `store schema version ${version} is newer than this un (${SCHEMA_VERSION}); upgrade un`,
    );
  }
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(SCHEMA);
    const columns = new Set(
      db.prepare("PRAGMA table_info(tasks)").all().map((column) => String(column.name)),
    );
    for (const { column, add } of MIGRATIONS) if (!columns.has(column)) db.exec(add);
    db.exec(AFTER_MIGRATIONS);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}
