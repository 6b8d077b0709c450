/**
 * `un tasks`: list tasks as a table (or `--json`), filtered and a page at a
 * time (`--all` follows the cursor to the end), or show one task in detail
 * (`un tasks <id>`), including why it sorts where it does. `un tasks clear |
 * retry | cancel | reprioritize` act on every task the filters match
 * (`POST /un/tasks/bulk`; `--dry-run` counts only).
 */

import { parseTimeText } from "../lib/duration.ts";
import { type Task, TASK_STATES } from "../lib/tasks/task.ts";
import { intFlag, oneOfFlag, parse } from "./args.ts";
import { UnClient, type Wire } from "./client.ts";
import { UsageError } from "./errors.ts";
import { age, printJson, table, when } from "./format.ts";

const FILTERS =
  "[--state S] [--queue Q] [--type T] [--key K] [--correlation C] [--subject S] [--created-after T] [--created-before T]";
const USAGE = `un tasks ${FILTERS} [--limit N] [--all] [--json] | un tasks <id> [--json]` +
  ` | un tasks clear|retry|cancel|reprioritize ${FILTERS} [--priority P] [--limit N] [--dry-run] [--json]`;

/** Bulk subcommands → the API's action. */
const BULK: Record<string, "delete" | "retry" | "cancel" | "reprioritize"> = {
  clear: "delete",
  retry: "retry",
  cancel: "cancel",
  reprioritize: "reprioritize",
};

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

/** A time flag: epoch milliseconds or an ISO 8601 date-time (exit 2 otherwise). */
function timeFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseTimeText(value);
  if (ms === null) {
    throw new UsageError(
      `${flag} must be epoch milliseconds or an ISO 8601 date-time, got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

const OPTIONS = {
  state: { type: "string" },
  queue: { type: "string" },
  type: { type: "string" },
  key: { type: "string" },
  correlation: { type: "string" },
  subject: { type: "string" },
  "created-after": { type: "string" },
  "created-before": { type: "string" },
  limit: { type: "string" },
  all: { type: "boolean" },
  priority: { type: "string" },
  "dry-run": { type: "boolean" },
  json: { type: "boolean" },
} as const;

type Values = ReturnType<typeof parse<typeof OPTIONS>>["values"];

/** The filters the flags name (undefined ones left out). */
function filterOf(values: Values) {
  const createdAfter = timeFlag(values["created-after"], "--created-after");
  const createdBefore = timeFlag(values["created-before"], "--created-before");
  const filter = {
    state: oneOfFlag(values.state, "--state", TASK_STATES) || undefined,
    queue: values.queue || undefined,
    type: values.type || undefined,
    key: values.key || undefined,
    correlationId: values.correlation || undefined,
    subject: values.subject || undefined,
    createdAfter,
    createdBefore,
  };
  return Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined));
}

async function bulkCommand(
  client: UnClient,
  verb: string,
  values: Values,
): Promise<number> {
  const action = BULK[verb];
  const filter = filterOf(values);
  if (Object.keys(filter).length === 0) {
    throw new UsageError(`un tasks ${verb} needs at least one filter; usage: ${USAGE}`);
  }
  if (values.all) throw new UsageError(`--all lists tasks; un tasks ${verb} takes every match`);
  const priority = intFlag(values.priority, "--priority", 0, 9);
  if (action === "reprioritize" && priority === undefined) {
    throw new UsageError("un tasks reprioritize needs --priority 0..9");
  }
  if (action !== "reprioritize" && priority !== undefined) {
    throw new UsageError(`--priority applies to un tasks reprioritize only`);
  }
  const limit = intFlag(values.limit, "--limit", 1, 10_000_000);
  const body = await client.json(client.api.un.tasks.bulk.$post({
    json: {
      action,
      filter,
      ...(priority !== undefined ? { priority } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(values["dry-run"] ? { dryRun: true } : {}),
    },
  }));
  if (values.json) printJson(body);
  else if (values["dry-run"]) {
    console.log(`${body.matched} task(s) match; nothing changed (dry run)`);
  } else console.log(`${body.matched} task(s) matched, ${body.changed} changed (${verb})`);
  return 0;
}

/**
 * Runs `un tasks`.
 */
export async function tasksCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS, USAGE);
  const client = UnClient.fromEnv();
  if (positionals.length > 1) throw new UsageError(`too many arguments; usage: ${USAGE}`);
  if (positionals.length === 1 && positionals[0] in BULK) {
    return await bulkCommand(client, positionals[0], values);
  }
  if (values["dry-run"] || values.priority) {
    throw new UsageError(`--dry-run and --priority go with clear|retry|cancel|reprioritize`);
  }
  const filter = filterOf(values);
  if (positionals.length === 1) {
    if (Object.keys(filter).length > 0 || values.limit || values.all) {
      throw new UsageError(`filters do not apply to one task; usage: ${USAGE}`);
    }
    const { task } = await client.json(
      client.api.un.tasks[":id"].$get({ param: { id: encodeURIComponent(positionals[0]) } }),
    );
    if (values.json) printJson({ task });
    else console.log(describeTask(task));
    return 0;
  }
  const limit = intFlag(values.limit, "--limit", 1, 1000) ?? (values.all ? 1000 : 50);
  const query = {
    ...Object.fromEntries(Object.entries(filter).map(([k, v]) => [k, String(v)])),
    limit: String(limit),
  };
  const tasks: Wire<Task>[] = [];
  let cursor: string | undefined;
  do {
    const body = await client.json(client.api.un.tasks.$get({
      query: cursor ? { ...query, cursor } : query,
    }));
    tasks.push(...body.tasks);
    cursor = values.all && "nextCursor" in body ? body.nextCursor : undefined;
  } while (cursor);
  if (values.json) printJson({ tasks });
  else if (tasks.length === 0) console.log("no tasks");
  else console.log(table(TASK_HEAD, tasks.map((t) => taskRow(t))));
  return 0;
}
