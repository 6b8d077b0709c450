/**
 * `un workers`: the pool (concurrency, resources in use out of
 * `workers.resources`, what each worker runs), or `--scale N` to change its
 * concurrency.
 */

import { intFlag, parse, positionals } from "./args.ts";
import { UnClient } from "./client.ts";
import { age, printJson, table } from "./format.ts";

const USAGE = "un workers [--scale N] [--json]";

/**
 * Runs `un workers`.
 */
export async function workersCommand(args: string[]): Promise<number> {
  const { values, positionals: rest } = parse(args, {
    scale: { type: "string" },
    json: { type: "boolean" },
  }, USAGE);
  positionals(rest, 0, USAGE);
  const scale = intFlag(values.scale, "--scale", 1, 256);
  const client = UnClient.fromEnv();
  if (scale !== undefined) {
    const body = await client.json(client.api.un.workers.scale.$post({
      json: { concurrency: scale },
    }));
    if (values.json) printJson(body);
    else console.log(`concurrency is now ${body.concurrency}`);
    return 0;
  }
  const pool = await client.json(client.api.un.workers.$get());
  if (values.json) {
    printJson(pool);
    return 0;
  }
  const busy = pool.workers.filter((w) => w.taskId !== null).length;
  console.log(`concurrency ${pool.concurrency}, ${busy} busy${pool.paused ? ", paused" : ""}`);
  const resources = Object.entries(pool.resources ?? {});
  if (resources.length > 0) {
    const uses = resources.map(([name, use]) => `${name} ${use.inUse}/${use.capacity}`);
    console.log(`resources in use: ${uses.join(", ")}`);
  }
  if (pool.workers.length > 0) {
    console.log(table(
      ["WORKER", "STATE", "TASK", "TYPE", "RUNNING FOR"],
      pool.workers.map((
        w,
      ) => [w.id, w.state, w.taskId ?? "-", w.taskType ?? "-", age(w.startedAt)]),
    ));
  }
  return 0;
}
