/**
 * `un hooks`: list the hooks (table or `--json`), add one at run time
 * (`add <on> <task> [--where EXPR] [--every N] ...` or `add --json '{...}'`),
 * change one (`update <id> --where ...` or `--json`), remove one
 * (`delete <id>`), switch one on or off (`enable|disable <id>`).
 */

import type { HookView } from "../lib/hooks/manage.ts";
import { intFlag, type Options, parse, positionals } from "./args.ts";
import { UnClient, type Wire } from "./client.ts";
import { UsageError } from "./errors.ts";
import { brief } from "./format.ts";
import { dispatch, idCommands, jsonBase, listCommand } from "./resource.ts";

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
  const body = jsonBase(values.json, ` such as '{"on":"file.*","task":"..."}'`);
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

function list(args: string[]): Promise<number> {
  return listCommand(args, USAGE, (client) => client.json(client.api.un.hooks.$get()), {
    items: (body) => body.hooks,
    none: "no hooks",
    head: ["ID", "ORIGIN", "ENABLED", "ON", "TASK", "WHERE", "SAMPLE", "ERROR"],
    row: (h) => hookRow(h as Wire<HookView>),
  });
}

/** `update <id> [flags]`: one PATCH with the keys the flags set. */
async function update(args: string[]): Promise<number> {
  const { values, positionals: given } = parse(args, FLAGS, USAGE);
  const [id] = positionals(given, 1, USAGE);
  const json = bodyOf(values);
  if (Object.keys(json).length === 0) throw new UsageError(`nothing to change; usage: ${USAGE}`);
  const client = UnClient.fromEnv();
  await client.json(
    client.api.un.hooks[":id"].$patch({ param: { id: encodeURIComponent(id) }, json }),
  );
  console.log(`updated hook ${id}`);
  return 0;
}

async function add(args: string[]): Promise<number> {
  const client = UnClient.fromEnv();
  // Unchecked here: the server's 400 names what is wrong.
  const json = addHookBody(args) as { on: string; task: string };
  const { hook } = await client.json(client.api.un.hooks.$post({ json }));
  console.log(`added hook ${hook.id} (${hook.on} → ${hook.task})`);
  return 0;
}

/**
 * Runs `un hooks`.
 */
export function hooksCommand(args: string[]): Promise<number> {
  return dispatch(args, USAGE, list, {
    add,
    update,
    ...idCommands(USAGE, "hook", {
      remove: (client, request) => client.json(client.api.un.hooks[":id"].$delete(request)),
      patch: (client, request) => client.json(client.api.un.hooks[":id"].$patch(request)),
    }),
  }, { rm: "delete" });
}
