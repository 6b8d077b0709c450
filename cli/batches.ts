/**
 * `un batches <id>`: one batch (`GET /un/batches/:id`) — tasks created
 * together with `{tasks, batch}`, or the children a handler made with
 * `ctx.enqueue` (the batch id is the parent task's id): its tasks per state
 * as a table, their combined progress, and whether it is done. `--json`
 * prints the batch as the API gives it.
 */

import { parse, positionals } from "./args.ts";
import { UnClient } from "./client.ts";
import { printJson, table, when } from "./format.ts";

const USAGE = "un batches <id> [--json]";

/**
 * Runs `un batches`.
 */
export async function batchesCommand(args: string[]): Promise<number> {
  const parsed = parse(args, { json: { type: "boolean" } }, USAGE);
  const [id] = positionals(parsed.positionals, 1, USAGE);
  const client = UnClient.fromEnv();
  const { batch } = await client.json(client.api.un.batches[":id"].$get({ param: { id } }));
  if (parsed.values.json) {
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
