/**
 * `un batches`: the batches, newest first (`GET /un/batches`), as a table —
 * tasks, their states, combined progress, when each began and completed —
 * with `--state open|completed`, `--limit N` and `--cursor C` (the next page,
 * printed under a full table). `un batches <id>`: one batch
 * (`GET /un/batches/:id`) — tasks created together with `{tasks, batch}`, or
 * the children a handler made with `ctx.enqueue` (the batch id is the parent
 * task's id): its tasks per state as a table, their combined progress, and
 * whether it is done. `--json` prints either as the API gives it.
 */

import type { BatchView } from "../lib/store/types.ts";
import { intFlag, oneOfFlag, parse } from "./args.ts";
import { UnClient, type Wire } from "./client.ts";
import { UsageError } from "./errors.ts";
import { age, printJson, printList, table, when } from "./format.ts";

const USAGE = "un batches [--state open|completed] [--limit N] [--cursor C] [--json] | " +
  "un batches <id> [--json]";

const FLAGS = {
  json: { type: "boolean" },
  state: { type: "string" },
  limit: { type: "string" },
  cursor: { type: "string" },
} as const;

/**
 * Runs `un batches`.
 */
export async function batchesCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, FLAGS, USAGE);
  if (positionals.length > 1) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}; usage: ${USAGE}`);
  }
  const json = values.json === true;
  if (positionals.length === 0) return await listBatches(values, json);
  if (values.state !== undefined || values.limit !== undefined || values.cursor !== undefined) {
    throw new UsageError(`--state, --limit and --cursor list batches; usage: ${USAGE}`);
  }
  return await showBatch(positionals[0], json);
}

async function listBatches(
  values: { state?: string; limit?: string; cursor?: string },
  json: boolean,
): Promise<number> {
  const state = oneOfFlag(values.state, "--state", ["open", "completed"] as const);
  const limit = intFlag(values.limit, "--limit", 1, 500);
  const query: { state?: "open" | "completed"; limit?: string; cursor?: string } = {};
  if (state !== undefined) query.state = state;
  if (limit !== undefined) query.limit = String(limit);
  if (values.cursor !== undefined) query.cursor = values.cursor;
  const client = UnClient.fromEnv();
  const body = await client.json(client.api.un.batches.$get({ query }));
  const now = Date.now();
  printList(body, body.batches, {
    json,
    none: state === undefined ? "no batches" : `no ${state} batches`,
    head: ["ID", "TASKS", "STATES", "PROGRESS", "CREATED", "COMPLETED"],
    row: (batch) => batchRow(batch, now),
  });
  if (!json && body.nextCursor !== undefined) {
    console.log(`more: un batches --cursor ${body.nextCursor}${state ? ` --state ${state}` : ""}`);
  }
  return 0;
}

/**
 * One row of the batches table: a partial count (a batch larger than a
 * listing counts) shows its total as "N+".
 *
 * @example
 * ```ts
 * batchRow({ id: "b1", total: 3, counts: { succeeded: 2, running: 1 }, progress: 0.8,
 *   done: false, createdAt: Date.now() - 5_000 });
 * // ["b1", "3", "2 succeeded, 1 running", "80%", "5.0s ago", "-"]
 * ```
 */
export function batchRow(batch: Wire<BatchView>, now = Date.now()): string[] {
  const states = Object.entries(batch.counts).map(([name, count]) => `${count} ${name}`);
  return [
    batch.id,
    batch.partial ? `${batch.total}+` : String(batch.total),
    states.length > 0 ? states.join(", ") : "-",
    `${Math.floor(batch.progress * 100)}%`,
    `${age(batch.createdAt, now)} ago`,
    batch.completedAt === undefined ? "-" : `${age(batch.completedAt, now)} ago`,
  ];
}

async function showBatch(id: string, json: boolean): Promise<number> {
  const client = UnClient.fromEnv();
  const { batch } = await client.json(client.api.un.batches[":id"].$get({ param: { id } }));
  if (json) {
    printJson(batch);
    return 0;
  }
  const parent = batch.parentId ? `, made by task ${batch.parentId}` : "";
  const state = batch.completedAt
    ? `completed ${when(batch.completedAt)}`
    : batch.done
    ? "done"
    : "running";
  const lines = [
    `batch ${batch.id}${parent}: ${batch.total} tasks, ${
      Math.round(batch.progress * 100)
    }% done, ${state}`,
  ];
  const rows = Object.entries(batch.counts).map(([name, count]) => [name, count ?? 0]);
  if (rows.length > 0) lines.push(table(["STATE", "TASKS"], rows));
  console.log(lines.join("\n"));
  return 0;
}
