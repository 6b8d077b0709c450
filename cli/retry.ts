/**
 * `un retry <id>`: puts a failed, dead, cancelled or expired task back in the queue.
 */

import { parse, positionals } from "./args.ts";
import { UnClient } from "./client.ts";
import { printJson } from "./format.ts";

const USAGE = "un retry <id> [--json]";

/**
 * Runs `un retry`.
 */
export async function retryCommand(args: string[]): Promise<number> {
  const parsed = parse(args, { json: { type: "boolean" } }, USAGE);
  const [id] = positionals(parsed.positionals, 1, USAGE);
  const client = UnClient.fromEnv();
  const body = await client.json(
    client.api.un.tasks[":id"].retry.$post({ param: { id: encodeURIComponent(id) } }),
  );
  if (parsed.values.json) printJson(body);
  else {console.log(
      `task ${body.task.id} is ${body.task.state} again (attempts reset, ${body.task.maxAttempts} allowed)`,
    );}
  return 0;
}
