/**
 * `un enqueue <type>`: creates a task. With `--wait` it follows the task with
 * a progress bar (cli-progress, on stderr when it is a terminal) until it
 * finishes, and exits 0 only when it succeeded.
 */

import { SingleBar } from "cli-progress";
import { parseDuration } from "../lib/duration.ts";
import { isTerminal, type Task } from "../lib/tasks/task.ts";
import { intFlag, jsonFlag, parse, positionals } from "./args.ts";
import { UnClient, type UnClient as Client, type Wire } from "./client.ts";
import { UsageError } from "./errors.ts";
import { printJson } from "./format.ts";

const USAGE =
  "un enqueue <type> [--payload JSON] [--priority 0-9] [--queue Q] [--delay MS] [--key K] [--wait] [--json]";
/** How often `--wait` looks at the task. */
const POLL_MS = 200;

function delayFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === null || !Number.isInteger(ms)) {
    throw new UsageError(
      `--delay must be milliseconds or a duration such as 30s, 5m, got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

/** Polls the task until it is terminal, feeding a progress bar; returns the final task. */
async function waitFor(client: Client, task: Wire<Task>): Promise<Wire<Task>> {
  const bar = new SingleBar({
    format: "{bar} {percentage}% | {state} {message}",
    hideCursor: true,
    clearOnComplete: false,
  });
  bar.start(100, Math.round(task.progress * 100), { state: task.state, message: "" });
  try {
    while (!isTerminal(task.state)) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      task = (await client.json(client.api.un.tasks[":id"].$get({ param: { id: task.id } }))).task;
      bar.update(Math.round(task.progress * 100), {
        state: task.state,
        message: task.progressMessage ?? "",
      });
    }
  } finally {
    bar.stop();
  }
  return task;
}

/**
 * Runs `un enqueue`.
 */
export async function enqueueCommand(args: string[]): Promise<number> {
  const { values, positionals: rest } = parse(args, {
    payload: { type: "string" },
    priority: { type: "string" },
    queue: { type: "string" },
    delay: { type: "string" },
    key: { type: "string" },
    wait: { type: "boolean" },
    json: { type: "boolean" },
  }, USAGE);
  const [type] = positionals(rest, 1, USAGE);
  const request = {
    type,
    payload: jsonFlag(values.payload, "--payload"),
    priority: intFlag(values.priority, "--priority", 0, 9),
    queue: values.queue,
    delayMs: delayFlag(values.delay),
    key: values.key,
  };

  const client = UnClient.fromEnv();
  const created = await client.json(client.api.un.tasks.create.$post({ json: request }));
  // One request, so one task back (a batch would answer `{ tasks }`).
  if (!("task" in created)) throw new Error("un answered a single create with a batch");
  let task = created.task;
  if (!values.json) {
    console.log(
      "deduplicated" in created
        ? `task ${task.id} already exists with key ${
          JSON.stringify(task.key)
        } (${task.state}); nothing new was queued`
        : `task ${task.id} ${task.state} (type ${task.type}, queue ${task.queue}, priority ${task.priority})`,
    );
  }
  if (!values.wait) {
    if (values.json) printJson(created);
    return 0;
  }
  task = await waitFor(client, task);
  if (values.json) printJson({ task });
  else if (task.state === "succeeded") {
    console.log(`task ${task.id} succeeded: ${JSON.stringify(task.result)}`);
  } else console.log(`task ${task.id} ${task.state}${task.error ? `: ${task.error.message}` : ""}`);
  return task.state === "succeeded" ? 0 : 1;
}
