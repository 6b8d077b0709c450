/**
 * `un tasks`: list tasks as a table (or `--json`), or show one task in detail
 * (`un tasks <id>`), including why it sorts where it does.
 */

import { type Task, TASK_STATES } from "../lib/tasks/task.ts";
import { intFlag, oneOfFlag, parse } from "./args.ts";
import { UnClient, type Wire } from "./client.ts";
import { UsageError } from "./errors.ts";
import { age, printJson, table, when } from "./format.ts";

const USAGE =
  "un tasks [--state S] [--queue Q] [--type T] [--limit N] [--json] | un tasks <id> [--json]";

/**
 * One row of the task table.
 */
export function taskRow(task: Wire<Task>, now = Date.now()): Array<string | number> {
  const progress = task.progress > 0 ? `${Math.round(task.progress * 100)}%` : "-";
  return [
    task.id,
    task.type,
    task.queue,
    task.state,
    task.priority,
    `${task.attempts}/${task.maxAttempts}`,
    progress,
    age(task.createdAt, now),
  ];
}

/** The task table's header. */
const TASK_HEAD = [
  "ID",
  "TYPE",
  "QUEUE",
  "STATE",
  "PRIORITY",
  "ATTEMPTS",
  "PROGRESS",
  "AGE",
];

/**
 * A task in detail, as lines of `key: value`.
 */
export function describeTask(task: Wire<Task>, now = Date.now()): string {
  const lines: Array<[string, string]> = [
    ["id", task.id],
    ["type", task.type],
    ["queue", task.queue],
    ["state", task.state],
    ["priority", String(task.priority)],
    ["attempts", `${task.attempts} of ${task.maxAttempts}`],
    [
      "progress",
      `${Math.round(task.progress * 100)}%${
        task.progressMessage ? ` ${task.progressMessage}` : ""
      }`,
    ],
    ["key", task.key ?? "-"],
    ["depends on", task.dependsOn.length ? task.dependsOn.join(", ") : "-"],
    ["created", `${when(task.createdAt)} (${age(task.createdAt, now)} ago)`],
    ["run at", when(task.runAt)],
    ["deadline", when(task.deadline)],
    ["expires at", when(task.expiresAt)],
    ["started", when(task.startedAt)],
    ["finished", when(task.finishedAt)],
    ["worker", task.workerId ?? "-"],
    ["payload", JSON.stringify(task.payload)],
    ["result", task.result === null ? "-" : JSON.stringify(task.result)],
    [
      "error",
      task.error
        ? `${
          task.error.name ? `${task.error.name}: ` : ""
        }${task.error.message} (attempt ${task.error.attempt}${
          task.error.permanent ? ", permanent" : ""
        })`
        : "-",
    ],
    ["sort key", `${task.sortKey} (lower runs first)`],
    ["  formula", task.explanation.formula ?? ""],
    ...(task.explanation.notes ?? []).map((note): [string, string] => ["  why", note]),
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}

/**
 * Runs `un tasks`.
 */
export async function tasksCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    state: { type: "string" },
    queue: { type: "string" },
    type: { type: "string" },
    limit: { type: "string" },
    json: { type: "boolean" },
  }, USAGE);
  const client = UnClient.fromEnv();
  if (positionals.length > 1) throw new UsageError(`too many arguments; usage: ${USAGE}`);
  if (positionals.length === 1) {
    if (values.state || values.queue || values.type || values.limit) {
      throw new UsageError(`filters do not apply to one task; usage: ${USAGE}`);
    }
    const { task } = await client.json(
      client.api.un.tasks[":id"].$get({ param: { id: encodeURIComponent(positionals[0]) } }),
    );
    if (values.json) printJson({ task });
    else console.log(describeTask(task));
    return 0;
  }
  const body = await client.json(client.api.un.tasks.$get({
    query: {
      state: oneOfFlag(values.state, "--state", TASK_STATES) || undefined,
      queue: values.queue || undefined,
      type: values.type || undefined,
      limit: String(intFlag(values.limit, "--limit", 1, 1000) ?? 50),
    },
  }));
  if (values.json) printJson(body);
  else if (body.tasks.length === 0) console.log("no tasks");
  else console.log(table(TASK_HEAD, body.tasks.map((t) => taskRow(t))));
  return 0;
}
