/**
 * Creating tasks: dedupe by live key, resolving `dependsOn` (ids or keys, of
 * stored tasks or of tasks in the same batch), refusing cycles, and choosing
 * each new task's first state from its dependencies.
 */

import { ConflictError, ValidationError } from "../../errors.ts";
import type { NewTask, Task, TaskError, TaskState } from "../../tasks/task.ts";
import type { EnqueueOptions, EnqueueResult } from "../types.ts";
import { type BatchNode, orderBatch } from "./batch-order.ts";
import { joinBatch } from "./batches.ts";
import { dependencyError } from "./dependents.ts";
import { applyQueueBounds } from "./queue-bound.ts";
import { LIVE_STATE_SQL } from "./schema.ts";
import type { Sql } from "./statements.ts";
import { insertTask, insertTasks, readTask, taskFromRow } from "./task-rows.ts";

const BAD_ENDINGS: ReadonlySet<TaskState> = new Set(["failed", "dead", "cancelled", "expired"]);
/** What SQLite says when an insert reuses a stored id (the primary key refuses it). */
const ID_TAKEN = /UNIQUE constraint failed: tasks\.id\b/;
/** Which id of a refused insert is in use. */
const ID_IN_USE = "SELECT 1 AS taken FROM tasks WHERE id = :id";

/** A task of the batch that will be created, with its resolved dependencies. */
interface Planned extends BatchNode {
  task: NewTask;
}

/** Where each input of the batch ends up. */
type Outcome =
  | { kind: "existing"; task: Task }
  | { kind: "created"; id: string }
  | { kind: "duplicate"; id: string };

/**
 * The live task holding `key`, if any.
 */
export function liveTaskByKey(sql: Sql, key: string): Task | null {
  const row = sql.get(
    `SELECT * FROM tasks WHERE key = :key AND key IS NOT NULL AND ${LIVE_STATE_SQL}`,
    {
      key,
    },
  );
  return row === undefined ? null : taskFromRow(row);
}

/**
 * Creates the tasks of one batch (the caller runs this inside one savepoint,
 * so any error leaves nothing behind). Results are in input order. A batch
 * that would take a queue of `maxSize` past its bound throws QueueFullError,
 * or drops queued tasks of it under its `overflow` policy.
 *
 * @example
 * ```ts
 * const [a, b] = enqueueBatch(sql, [taskA, { ...taskB, dependsOn: ["key-of-a"] }], now);
 * b.task.state; // "waiting"
 * ```
 */
export function enqueueBatch(
  sql: Sql,
  tasks: readonly NewTask[],
  now: number,
  options?: EnqueueOptions,
): EnqueueResult[] {
  joinBatch(sql, tasks, options?.newBatch === true, now);
  const results = createBatch(sql, tasks, now);
  if (options?.maxSize !== undefined) applyQueueBounds(sql, results, options, now);
  return results;
}

function createBatch(sql: Sql, tasks: readonly NewTask[], now: number): EnqueueResult[] {
  // 1. Dedupe: against live stored tasks, then against earlier tasks of the batch.
  const keyToId = new Map<string, string>();
  const batchIds = new Set<string>();
  const outcomes: Outcome[] = [];
  const creating: NewTask[] = [];
  for (const task of tasks) {
    if (task.key !== null && task.key !== undefined) {
      const earlier = keyToId.get(task.key);
      if (earlier !== undefined) {
        const live = batchIds.has(earlier) ? null : readTask(sql, earlier);
        outcomes.push(live ? { kind: "existing", task: live } : { kind: "duplicate", id: earlier });
        continue;
      }
      const live = liveTaskByKey(sql, task.key);
      if (live !== null) {
        keyToId.set(task.key, live.id);
        outcomes.push({ kind: "existing", task: live });
        continue;
      }
      keyToId.set(task.key, task.id);
    }
    // A stored id is refused by the insert itself (see step 3): no lookup per task.
    if (batchIds.has(task.id)) throw idTaken(task.id);
    batchIds.add(task.id);
    creating.push(task);
    outcomes.push({ kind: "created", id: task.id });
  }

  // 2. Resolve dependsOn entries to ids: batch ids, batch keys, stored ids, stored keys.
  const planned: Planned[] = creating.map((task) => ({
    id: task.id,
    name: task.key ?? task.id,
    task,
    dependsOn: [
      ...new Set(task.dependsOn.map((entry) => resolveEntry(sql, entry, batchIds, keyToId))),
    ],
  }));

  // 3. Dependencies first; a cycle inside the batch throws CycleError.
  const created = new Map<string, Task>();
  // Tasks without dependencies go in together, several rows per statement; a
  // task with some goes after what is gathered (its state reads theirs).
  let gathered: Planned[] = [];
  const insertGathered = () => {
    const nodes = gathered;
    gathered = [];
    if (nodes.length === 0) return;
    const items = nodes.map((node) => ({
      task: node.task,
      initial: { ...initialState(sql, node, now), now },
    }));
    try {
      insertTasks(sql, items).forEach((task) => created.set(task.id, task));
    } catch (error) {
      // The caller's savepoint takes back what the batch inserted before.
      if (!(error instanceof Error && ID_TAKEN.test(error.message))) throw error;
      const taken = nodes.find((node) => sql.get(ID_IN_USE, { id: node.id }) !== undefined);
      throw idTaken(taken?.id ?? nodes[0].id);
    }
  };
  for (const node of orderBatch(planned)) {
    if (node.dependsOn.length === 0) {
      gathered.push(node);
      continue;
    }
    insertGathered();
    try {
      created.set(node.id, insertTask(sql, node.task, { ...initialState(sql, node, now), now }));
    } catch (error) {
      throw error instanceof Error && ID_TAKEN.test(error.message) ? idTaken(node.id) : error;
    }
  }
  insertGathered();

  return outcomes.map((outcome) =>
    outcome.kind === "existing"
      ? { task: outcome.task, deduplicated: true }
      : { task: created.get(outcome.id)!, deduplicated: outcome.kind === "duplicate" }
  );
}

function idTaken(id: string): ConflictError {
  return new ConflictError(`task id ${id} already exists`, { field: "id", value: id });
}

function resolveEntry(
  sql: Sql,
  entry: string,
  batchIds: ReadonlySet<string>,
  keyToId: ReadonlyMap<string, string>,
): string {
  if (batchIds.has(entry)) return entry;
  const batchKey = keyToId.get(entry);
  if (batchKey !== undefined) return batchKey;
  if (sql.get("SELECT 1 FROM tasks WHERE id = :entry", { entry }) !== undefined) return entry;
  const byKey = sql.get(
    `SELECT id FROM tasks WHERE key = :entry AND key IS NOT NULL
     ORDER BY created_at DESC, id DESC LIMIT 1`,
    { entry },
  );
  if (byKey !== undefined) return String(byKey.id);
  throw new ValidationError(`dependsOn names no known task id or key: "${entry}"`, {
    field: "dependsOn",
    value: entry,
  });
}

/** First state from the dependencies (already stored, batch ones included), then runAt. */
function initialState(
  sql: Sql,
  node: Planned,
  now: number,
): { state: TaskState; dependsOn: string[]; error: TaskError | null; finishedAt: number | null } {
  let pending = false;
  for (const dependencyId of node.dependsOn) {
    if (dependencyId === node.id) continue; // self-edges were refused as cycles
    const row = sql.get("SELECT state FROM tasks WHERE id = :id", { id: dependencyId });
    const state = String(row?.state) as TaskState;
    if (BAD_ENDINGS.has(state)) {
      return {
        state: "failed",
        dependsOn: node.dependsOn,
        error: dependencyError(dependencyId, state),
        finishedAt: now,
      };
    }
    if (state !== "succeeded") pending = true;
  }
  const { runAt } = node.task;
  const state: TaskState = pending
    ? "waiting"
    : runAt !== null && runAt !== undefined && runAt > now
    ? "scheduled"
    : "queued";
  return { state, dependsOn: node.dependsOn, error: null, finishedAt: null };
}
