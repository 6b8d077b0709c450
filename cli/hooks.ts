/**
 * `un hooks`: list the hooks (table or `--json`), add one at run time
 * (`add <on> <task> [--where EXPR] [--every N] ...` or `add --json '{...}'`),
 * change one (`update <id> --where ...` or `--json`), remove one
 * (`delete <id>`), switch one on or off (`enable|disable <id>`).
 */

import type { HookView } from "../lib/hooks/manage.ts";
import { intFlag, jsonFlag, type Options, parse, positionals } from "./args.ts";
import { UnClient, type Wire } from "./client.ts";
import { UsageError } from "./errors.ts";
import { brief, printJson, printList } from "./format.ts";

const USAGE = "un hooks [--json] | un hooks add <on> <task> [--where EXPR] [--every N] " +
  "[--priority P] [--queue Q] [--key TEMPLATE] [--disabled] | un hooks add --json '{...}' | " +
  "un hooks update <id> [the flags of add] | un hooks update <id> --json '{...}' | " +
  "un hooks delete|enable|disable <id> [--json]";

const FLAGS: Options = {
  json: { type: "string" },
  where: { type: "string" },
  every: { type: "string" },
  priority: { type: "string" },
  queue: { type: "string" },
  key: { type: "string" },
  disabled: { type: "boolean" },
};

/** The body the flags make, over `--json`'s object. */
function bodyOf(values: ReturnType<typeof parse>["values"]): Record<string, unknown> {
  const base = jsonFlag(values.json, "--json") ?? {};
  if (base === null || typeof base !== "object" || Array.isArray(base)) {
    throw new UsageError(`--json must be a JSON object such as '{"on":"file.*","task":"..."}'`);
  }
  const body: Record<string, unknown> = { ...base };
  if (values.where !== undefined) body.where = values.where;
  if (values.queue !== undefined) body.queue = values.queue;
  if (values.key !== undefined) body.key = values.key;
  if (values.priority !== undefined) body.priority = intFlag(values.priority, "--priority", 0, 9);
  if (values.every !== undefined) {
    body.sample = { every: intFlag(values.every, "--every", 1, 1_000_000) };
  }
  if (values.disabled) body.enabled = false;
  return body;
}

/**
 * What `un hooks add` sends: `--json` as the base, then `<on> <task>` and the flags.
 */
export function addHookBody(args: string[]): Record<string, unknown> {
  const { values, positionals: rest } = parse(args, FLAGS, USAGE);
  if (rest.length > 2) throw new UsageError(`unexpected argument; usage: ${USAGE}`);
  const body = bodyOf(values);
  if (rest[0] !== undefined) body.on = rest[0];
  if (rest[1] !== undefined) body.task = rest[1];
  if (body.on === undefined || body.task === undefined) {
    throw new UsageError(`missing <on> or <task>; usage: ${USAGE}`);
  }
  return body;
}

/** One row of the hooks table. */
export function hookRow(hook: Wire<HookView>): string[] {
  const sample = hook.sample as { every?: number } | undefined;
  return [
    hook.id,
    hook.origin,
    hook.enabled ? "yes" : "no",
    String(hook.on),
    String(hook.task),
    brief(hook.where ?? null, 40),
    sample?.every ? `1/${sample.every}` : "-",
    brief(hook.error ?? null, 40),
  ];
}

async function list(args: string[]): Promise<number> {
  const { values, positionals: rest } = parse(args, { json: { type: "boolean" } }, USAGE);
  positionals(rest, 0, USAGE);
  const client = UnClient.fromEnv();
  const body = await client.json(client.api.un.hooks.$get());
  printList(body, body.hooks, {
    json: values.json === true,
    none: "no hooks",
    head: ["ID", "ORIGIN", "ENABLED", "ON", "TASK", "WHERE", "SAMPLE", "ERROR"],
    row: (h) => hookRow(h as Wire<HookView>),
  });
  return 0;
}

/** `update`, `enable`, `disable`: one PATCH. */
async function patch(id: string, json: Record<string, unknown>, asJson: boolean, done: string) {
  const client = UnClient.fromEnv();
  const body = await client.json(
    client.api.un.hooks[":id"].$patch({ param: { id: encodeURIComponent(id) }, json }),
  );
  if (asJson) printJson(body);
  else console.log(`${done} hook ${id}`);
  return 0;
}

/**
 * Runs `un hooks`.
 */
export async function hooksCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case undefined:
      return list([]);
    case "add": {
      const client = UnClient.fromEnv();
      // Unchecked here: the server's 400 names what is wrong.
      const json = addHookBody(rest) as { on: string; task: string };
      const { hook } = await client.json(client.api.un.hooks.$post({ json }));
      console.log(`added hook ${hook.id} (${hook.on} → ${hook.task})`);
      return 0;
    }
    case "update": {
      const { values, positionals: given } = parse(rest, FLAGS, USAGE);
      const [id] = positionals(given, 1, USAGE);
      const body = bodyOf(values);
      if (Object.keys(body).length === 0) {
        throw new UsageError(`nothing to change; usage: ${USAGE}`);
      }
      return patch(id, body, false, "updated");
    }
    case "enable":
    case "disable": {
      const { values, positionals: given } = parse(rest, { json: { type: "boolean" } }, USAGE);
      const [id] = positionals(given, 1, USAGE);
      return patch(id, { enabled: sub === "enable" }, values.json === true, `${sub}d`);
    }
    case "delete":
    case "rm": {
      const { values, positionals: given } = parse(rest, { json: { type: "boolean" } }, USAGE);
      const [id] = positionals(given, 1, USAGE);
      const client = UnClient.fromEnv();
      const body = await client.json(
        client.api.un.hooks[":id"].$delete({ param: { id: encodeURIComponent(id) } }),
      );
      if (values.json) printJson(body);
      else console.log(`deleted hook ${id}`);
      return 0;
    }
    default:
      if (sub.startsWith("-")) return list(args);
      throw new UsageError(
        `unknown subcommand ${JSON.stringify(sub)} (add, update, delete, enable, disable); ` +
          `usage: ${USAGE}`,
      );
  }
}
