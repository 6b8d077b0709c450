/**
 * The shape the per-resource commands (`un hooks`, `un schedules`,
 * `un subscriptions`, `un sources`) share, written once: picking the
 * subcommand, the list (table or `--json`), the one-id actions (delete,
 * enable, pause, ...) and `--json '{...}'` as the base of a body.
 */

import { jsonFlag, parse, positionals } from "./args.ts";
import { UnClient } from "./client.ts";
import { UsageError } from "./errors.ts";
import { printJson, printList } from "./format.ts";

/** One subcommand: its arguments (after the subcommand's name) in, the exit code out. */
export type Subcommand = (args: string[]) => Promise<number>;

/** The `{ param: { id } }` of a one-id route, the id encoded for the path. */
export type IdParam = { param: { id: string } };

const JSON_ONLY = { json: { type: "boolean" } } as const;

/**
 * Runs the subcommand `args[0]` names: none (or a flag first) lists, `aliases`
 * map other names onto `subs`, and an unknown name is a UsageError that names
 * the subcommands (in the order of `subs`) and the usage.
 *
 * @example
 * ```ts
 * dispatch(args, USAGE, list, { add, delete: remove }, { rm: "delete" });
 * ```
 */
export function dispatch(
  args: string[],
  usage: string,
  list: Subcommand,
  subs: Record<string, Subcommand>,
  aliases: Record<string, string> = {},
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined) return list([]);
  const run = Object.hasOwn(subs, sub)
    ? subs[sub]
    : Object.hasOwn(aliases, sub)
    ? subs[aliases[sub]]
    : undefined;
  if (run) return run(rest);
  if (sub.startsWith("-")) return list(args);
  throw new UsageError(
    `unknown subcommand ${JSON.stringify(sub)} (${Object.keys(subs).join(", ")}); ` +
      `usage: ${usage}`,
  );
}

/**
 * A list subcommand (`[--json]`, nothing else): the whole answer as JSON with
 * `--json`, else `none` when there are no rows, else a table.
 */
export async function listCommand<B, T>(
  args: string[],
  usage: string,
  load: (client: UnClient) => Promise<B>,
  view: {
    items(body: B): readonly T[];
    none: string;
    head: string[];
    row(item: T): Array<string | number>;
  },
): Promise<number> {
  const { values, positionals: rest } = parse(args, JSON_ONLY, usage);
  positionals(rest, 0, usage);
  const body = await load(UnClient.fromEnv());
  printList(body, view.items(body), { ...view, json: values.json === true });
  return 0;
}

/**
 * A one-id subcommand (`<id> [--json]`): one request, then the answer as JSON
 * with `--json`, else the line or lines `say` makes of it.
 */
export async function idCommand<B>(
  args: string[],
  usage: string,
  send: (client: UnClient, param: IdParam) => Promise<B>,
  say: (id: string, body: B) => string | string[],
): Promise<number> {
  const { values, positionals: given } = parse(args, JSON_ONLY, usage);
  const [id] = positionals(given, 1, usage);
  const body = await send(UnClient.fromEnv(), { param: { id: encodeURIComponent(id) } });
  if (values.json) printJson(body);
  else for (const line of [say(id, body)].flat()) console.log(line);
  return 0;
}

/**
 * `delete <id>`, `enable <id>` and `disable <id>` of a resource whose PATCH
 * takes `enabled`: the answer as JSON with `--json`, else `deleted <kind>
 * <id>` (`enabled`, `disabled`).
 *
 * @example
 * ```ts
 * const subs = idCommands(USAGE, "hook", {
 *   remove: (client, req) => client.json(client.api.un.hooks[":id"].$delete(req)),
 *   patch: (client, req) => client.json(client.api.un.hooks[":id"].$patch(req)),
 * });
 * ```
 */
export function idCommands<D, P>(
  usage: string,
  kind: string,
  send: {
    remove(client: UnClient, request: IdParam): Promise<D>;
    patch(client: UnClient, request: IdParam & { json: { enabled: boolean } }): Promise<P>;
  },
): { delete: Subcommand; enable: Subcommand; disable: Subcommand } {
  const toggle = (enabled: boolean): Subcommand => (args) =>
    idCommand(
      args,
      usage,
      (client, { param }) => send.patch(client, { param, json: { enabled } }),
      (id) => `${enabled ? "enabled" : "disabled"} ${kind} ${id}`,
    );
  return {
    delete: (args) => idCommand(args, usage, send.remove, (id) => `deleted ${kind} ${id}`),
    enable: toggle(true),
    disable: toggle(false),
  };
}

/**
 * `--json '{...}'` as the base an add or update builds on (a copy; `{}` when
 * absent); anything but an object is a UsageError `--json must be a JSON
 * object` followed by `hint`.
 */
export function jsonBase(value: unknown, hint: string): Record<string, unknown> {
  const base = jsonFlag(value, "--json") ?? {};
  if (base === null || typeof base !== "object" || Array.isArray(base)) {
    throw new UsageError(`--json must be a JSON object${hint}`);
  }
  return { ...base };
}
