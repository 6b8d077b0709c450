/**
 * `un schedules`: list the schedules with their next fire and last run
 * (table or `--json`), add one at run time (`add <id> <task> --cron EXPR |
 * --every DURATION [...]` or `add --json '{...}'`), remove one (`delete
 * <id>`), pause, resume or fire one now (`pause|resume|trigger <id>`).
 */

import type { ScheduleView } from "../lib/schedules/manage.ts";
import { intFlag, jsonFlag, type Options, parse } from "./args.ts";
import { UnClient, type Wire } from "./client.ts";
import { UsageError } from "./errors.ts";
import { brief, when } from "./format.ts";
import { dispatch, idCommand, jsonBase, listCommand } from "./resource.ts";

const USAGE = "un schedules [--json] | un schedules add <id> <task> (--cron EXPR | --every 30s) " +
  "[--payload JSON] [--queue Q] [--priority P] [--timezone TZ] [--catch-up none|one|all] " +
  "[--catch-up-max N] | un schedules add --json '{...}' | " +
  "un schedules delete|pause|resume|trigger <id> [--json]";

const FLAGS: Options = {
  json: { type: "string" },
  cron: { type: "string" },
  every: { type: "string" },
  payload: { type: "string" },
  queue: { type: "string" },
  priority: { type: "string" },
  timezone: { type: "string" },
  "catch-up": { type: "string" },
  "catch-up-max": { type: "string" },
};

/**
 * What `un schedules add` sends: `--json` as the base, then `<id> <task>` and the flags.
 *
 * @example
 * ```ts
 * addScheduleBody(["nightly", "report", "--cron", "0 3 * * *", "--catch-up", "one"]);
 * // { id: "nightly", task: "report", cron: "0 3 * * *", catchUp: "one" }
 * ```
 */
export function addScheduleBody(args: string[]): Record<string, unknown> {
  const { values, positionals: rest } = parse(args, FLAGS, USAGE);
  if (rest.length > 2) throw new UsageError(`unexpected argument; usage: ${USAGE}`);
  const body = jsonBase(values.json, `; usage: ${USAGE}`);
  if (rest[0] !== undefined) body.id = rest[0];
  if (rest[1] !== undefined) body.task = rest[1];
  for (const key of ["cron", "every", "queue", "timezone"] as const) {
    if (values[key] !== undefined) body[key] = values[key];
  }
  if (values.payload !== undefined) body.payload = jsonFlag(values.payload, "--payload");
  if (values.priority !== undefined) body.priority = intFlag(values.priority, "--priority", 0, 9);
  if (values["catch-up"] !== undefined) body.catchUp = values["catch-up"];
  if (values["catch-up-max"] !== undefined) {
    body.catchUpMax = intFlag(values["catch-up-max"], "--catch-up-max", 1, 1_000);
  }
  if (body.id === undefined || body.task === undefined) {
    throw new UsageError(`missing <id> or <task>; usage: ${USAGE}`);
  }
  return body;
}

/** One row of the schedules table. */
export function scheduleRow(schedule: Wire<ScheduleView>): string[] {
  const spec = schedule.spec as { cron?: string; every?: number; task?: string } | null;
  const timing = spec?.cron ?? (spec?.every !== undefined ? `every ${spec.every}ms` : "-");
  const last = schedule.lastRun;
  return [
    schedule.id,
    schedule.origin,
    schedule.paused ? "paused" : "active",
    timing,
    spec?.task ?? "-",
    schedule.nextRuns.length ? when(schedule.nextRuns[0]) : "-",
    last ? `${when(last.at)} ${last.taskId ?? ""}`.trim() : "-",
    brief(schedule.error ?? null, 40),
  ];
}

function list(args: string[]): Promise<number> {
  return listCommand(args, USAGE, (client) => client.json(client.api.un.schedules.$get()), {
    items: (body) => body.schedules,
    none: "no schedules",
    head: ["ID", "ORIGIN", "STATE", "WHEN", "TASK", "NEXT", "LAST RUN", "ERROR"],
    row: (s) => scheduleRow(s as Wire<ScheduleView>),
  });
}

/** `delete`, `pause`, `resume`, `trigger` on one schedule. */
function act(sub: "delete" | "pause" | "resume" | "trigger"): (args: string[]) => Promise<number> {
  return (args) =>
    idCommand(args, USAGE, async (client, param) => {
      const one = client.api.un.schedules[":id"];
      return sub === "delete"
        ? await client.json(one.$delete(param))
        : sub === "pause"
        ? await client.json(one.pause.$post(param))
        : sub === "resume"
        ? await client.json(one.resume.$post(param))
        : await client.json(one.trigger.$post(param));
    }, (id, body) =>
      "task" in body
        ? `triggered schedule ${id}: task ${body.task.id}`
        : `${sub === "delete" ? "deleted" : `${sub}d`} schedule ${id}`);
}

async function add(args: string[]): Promise<number> {
  const client = UnClient.fromEnv();
  // Unchecked here: the server's 400 names what is wrong.
  const json = addScheduleBody(args) as { id: string; task: string };
  const { schedule } = await client.json(client.api.un.schedules.$post({ json }));
  const next = schedule.nextRuns[0];
  console.log(`added schedule ${schedule.id}${next ? ` (next ${when(next)})` : ""}`);
  return 0;
}

/**
 * Runs `un schedules`.
 */
export function schedulesCommand(args: string[]): Promise<number> {
  return dispatch(args, USAGE, list, {
    add,
    delete: act("delete"),
    pause: act("pause"),
    resume: act("resume"),
    trigger: act("trigger"),
  }, { rm: "delete" });
}
