/**
 * `un processes`: every process sharing the store (on Redis, the whole
 * cluster), with its role, its pool and when it was last heard from.
 */

import { parse, positionals } from "./args.ts";
import { UnClient } from "./client.ts";
import { age, printJson, table } from "./format.ts";

const USAGE = "un processes [--json]";

/**
 * Runs `un processes`.
 */
export async function processesCommand(args: string[]): Promise<number> {
  const { values, positionals: rest } = parse(args, { json: { type: "boolean" } }, USAGE);
  positionals(rest, 0, USAGE);
  const client = UnClient.fromEnv();
  const body = await client.json(client.api.un.processes.$get());
  if (values.json) {
    printJson(body);
    return 0;
  }
  console.log(table(
    ["PROCESS", "ROLE", "HOST", "PID", "WORKERS", "UP", "SEEN"],
    body.processes.map((p) => [
      p.id === body.self ? `${p.id} (this)` : p.id,
      p.role,
      p.host,
      p.pid,
      p.concurrency === 0 ? "-" : `${p.busy}/${p.concurrency} busy${p.paused ? ", paused" : ""}`,
      age(p.startedAt),
      `${age(p.seenAt)} ago`,
    ]),
  ));
  return 0;
}
