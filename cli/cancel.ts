/**
 * `un cancel <id>`: cancels a task that has not finished (a running one is aborted).
 */

import { parse, positionals } from "./args.ts";
import { UnClient } from "./client.ts";
import { printJson } from "./format.ts";

const USAGE = "un cancel <id> [--json]";

/**
 * Runs `un cancel`.
 */
export async function cancelCommand(args: string[]): Promise<number> {
  const parsed = parse(args, { json: { type: "boolean" } }, USAGE);
  const [id] = positionals(parsed.positionals, 1, USAGE);
  const client = UnClient.fromEnv();
  const body = await client.json(
    client.api.un.tasks[":id"].$delete({ param: { id: encodeURIComponent(id) } }),
  );
  if (parsed.values.json) printJson(body);
  else console.log(`task ${body.task.id} is ${body.task.state}`);
  return 0;
}
