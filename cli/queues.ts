/**
 * `un queues`: tasks per queue and state, which queues are paused or rate
 * limited; `un queues pause NAME` / `un queues resume NAME` stop and restart
 * claims from a queue (running tasks finish).
 */

import { parse, positionals } from "./args.ts";
import { UnClient } from "./client.ts";
import { UsageError } from "./errors.ts";
import { printJson, table } from "./format.ts";

const USAGE = "un queues [--json] | un queues pause <name> | un queues resume <name>";

/**
 * Runs `un queues`.
 */
export async function queuesCommand(args: string[]): Promise<number> {
  const { values, positionals: rest } = parse(args, { json: { type: "boolean" } }, USAGE);
  const [verb, ...more] = rest;
  if (verb === "pause" || verb === "resume") {
    const [name] = positionals(more, 1, `un queues ${verb} <name>`);
    if (name.trim() === "" || name.length > 200) {
      throw new UsageError("a queue name is 1..200 characters");
    }
    const client = UnClient.fromEnv();
    const route = client.api.un.queues[":name"][verb];
    const body = await client.json(route.$post({ param: { name } }));
    if (values.json) printJson(body);
    else {
      const state = body.paused ? "paused" : "running";
      console.log(
        body.changed ? `queue ${name} is now ${state}` : `queue ${name} was ${state} already`,
      );
    }
    return 0;
  }
  if (verb !== undefined) {
    throw new UsageError(`unknown subcommand ${JSON.stringify(verb)}; usage: ${USAGE}`);
  }
  const client = UnClient.fromEnv();
  const body = await client.json(client.api.un.queues.$get());
  if (values.json) {
    printJson(body);
    return 0;
  }
  const names = [...new Set([...Object.keys(body.queues), ...Object.keys(body.control)])].sort();
  if (names.length === 0) {
    console.log("no queues yet");
    return 0;
  }
  console.log(table(
    ["QUEUE", "QUEUED", "RUNNING", "STATE", "RATE LIMIT"],
    names.map((name) => {
      const counts = body.queues[name];
      const control = body.control[name];
      const limit = control?.rateLimit;
      return [
        name,
        String(counts?.queued ?? 0),
        String(counts?.running ?? 0),
        control?.paused ? "paused" : "running",
        limit ? `${limit.count}/${limit.max} per ${limit.perMs} ms` : "-",
      ];
    }),
  ));
  return 0;
}
