/**
 * `un stop`: asks the instance to stop gracefully (running tasks get
 * `workers.shutdownGraceMs` to finish; the rest are handed back).
 */

import { parse, positionals } from "./args.ts";
import { UnClient } from "./client.ts";
import { printJson } from "./format.ts";

const USAGE = "un stop [--json]";

/**
 * Runs `un stop`.
 */
export async function stopCommand(args: string[]): Promise<number> {
  const parsed = parse(args, { json: { type: "boolean" } }, USAGE);
  positionals(parsed.positionals, 0, USAGE);
  const client = UnClient.fromEnv();
  const body = await client.json(client.api.un.stop.$post());
  if (parsed.values.json) printJson(body);
  else console.log(`un at ${client.baseUrl} is stopping`);
  return 0;
}
