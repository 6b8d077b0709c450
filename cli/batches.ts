/**
 * `un batches`: the batches, newest first (`GET /un/batches`), as a table —
 * tasks, their states, combined progress, when each began and completed —
 * with `--state open|completed`, `--limit N` and `--cursor C` (the next page,
 * printed under a full table). `un batches <id>`: one batch
 * (`GET /un/batches/:id`) — tasks created together with `{tasks, batch}`, or
 * the children a handler made with `ctx.enqueue` (the batch id is the parent
 * task's id): its tasks per state as a table, their combined progress, and
 * whether it is done. `--json` prints either as the API gives it. With
 * `--wait` it follows the batch with a progress bar (on stderr when it is a
 * terminal) until every task has ended, and exits 0 only when all succeeded.
 */

import { SingleBar } from "cli-progress";
import type { BatchView } from "../lib/store/types.ts";
import { intFlag, oneOfFlag, parse } from "./args.ts";
import { UnClient, type Wire } from "./client.ts";
import { UsageError } from "./errors.ts";
import { age, printJson, printList, table, when } from "./format.ts";

const USAGE = "un batches [--state open|completed] [--limit N] [--cursor C] [--json] | " +
  "un batches <id> [--wait] [--json]";
/** How often `--wait` looks at the batch. */
const POLL_MS = 200;

const FLAGS = {
  json: { type: "boolean" },
  wait: { type: "boolean" },
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
  if (positionals.length === 0) {
    if (values.wait) throw new UsageError(`--wait follows one batch; usage: ${USAGE}`);
    return await listBatches(values, json);
  }
  if (values.state !== undefined || values.limit !== undefined || values.cursor !== undefined) {
    throw new UsageError(`--state, --limit and --cursor list batches; usage: ${USAGE}`);
  }
  return await showBatch(positionals[0], json, values.wait === true);
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

async function showBatch(id: string, json: boolean, wait: boolean): Promise<number> {
  const client = UnClient.fromEnv();
  const read = async () =>
    (await client.json(client.api.un.batches[":id"].$get({ param: { id } }))).batch;
  const batch = wait ? await follow(await read(), read) : await read();
  // With --wait, 0 only when every task succeeded.
  const code = !wait || batch.counts.succeeded === batch.total ? 0 : 1;
  if (json) {
    printJson(batch);
    return code;
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
  return code;
}

/** Reads the batch until every task of it has ended, feeding a progress bar; returns it then. */
async function follow(
  batch: Wire<BatchView>,
  read: () => Promise<Wire<BatchView>>,
): Promise<Wire<BatchView>> {
  const bar = new SingleBar({
    format: "{bar} {percentage}% | {ended}/{total} tasks ended",
    hideCursor: true,
    clearOnComplete: false,
  });
  const ended = (b: Wire<BatchView>) => b.total - live(b);
  bar.start(100, Math.round(batch.progress * 100), { ended: ended(batch), total: batch.total });
  try {
    while (!batch.done) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      batch = await read();
      bar.update(Math.round(batch.progress * 100), { ended: ended(batch), total: batch.total });
    }
  } finally {
    bar.stop();
  }
  return batch;
}

/** Tasks of the batch that have not ended. */
function live(batch: Wire<BatchView>): number {
  const n = batch.counts;
  return (n.waiting ?? 0) + (n.scheduled ?? 0) + (n.queued ?? 0) + (n.running ?? 0) +
    (n.retrying ?? 0);
}
