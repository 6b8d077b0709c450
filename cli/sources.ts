/**
 * `un sources`: list the sources (table or `--json`), add one at run time
 * (`add <kind> --url U ...` or `add --json '{...}'`), change one in place
 * (`update <id> --interval 30s ...`, the same flags), remove one (`rm <id>`),
 * switch one on or off (`enable|disable <id>`), or force-process one file
 * of an fs source (`process <id> <path>`).
 */

import type { InferRequestType } from "hono/client";
import type { SourceView } from "../lib/sources/manage.ts";
import type { SourceStatus } from "../lib/sources/scanner.ts";
import { type Options, parse, positionals } from "./args.ts";
import { UnClient, type Wire } from "./client.ts";
import { UsageError } from "./errors.ts";
import { age, brief, printJson } from "./format.ts";
import { dispatch, idCommand, jsonBase, listCommand } from "./resource.ts";

const USAGE = "un sources [--json] | un sources add <kind> [--id ID] [--url U] [--path P] " +
  "[--repo OWNER/NAME] [--interval D] ... | un sources add --json '{...}' | " +
  "un sources update <id> [--interval D] ... | un sources update <id> --json '{...}' | " +
  "un sources rm|enable|disable <id> [--json] | un sources process <id> <path> [--json]";
const ADD_USAGE = "un sources add <kind> [--id ID] [--url U] [--path P] [--repo OWNER/NAME] " +
  "[--secret S] [--token T] [--api-url U] [--interval D] [--priority P] [--method M] " +
  "[--table T]... [--include GLOB]... [--exclude GLOB]... [--disabled] [--baseline] | " +
  'un sources add --json \'{"kind":"feed","url":"..."}\'';
const UPDATE_USAGE = "un sources update <id> [--url U] [--path P] [--interval D] [--priority P] " +
  "[--include GLOB]... [--exclude GLOB]... (the flags of add) | " +
  'un sources update <id> --json \'{"interval":"30s"}\' (null resets a key)';

/** Flags of `add` that map one to one onto a definition key. */
const STRING_KEYS: Record<string, string> = {
  id: "id",
  url: "url",
  path: "path",
  repo: "repo",
  secret: "secret",
  token: "token",
  "api-url": "apiUrl",
  interval: "interval",
  priority: "priority",
  method: "method",
  "catch-up-column": "catchUpColumn",
  select: "select",
};
const LIST_KEYS: Record<string, string> = {
  table: "tables",
  include: "include",
  exclude: "exclude",
};

const ADD_OPTIONS: Options = {
  json: { type: "string" },
  disabled: { type: "boolean" },
  baseline: { type: "boolean" },
  ...Object.fromEntries(Object.keys(STRING_KEYS).map((k) => [k, { type: "string" as const }])),
  ...Object.fromEntries(
    Object.keys(LIST_KEYS).map((k) => [k, { type: "string" as const, multiple: true }]),
  ),
};

/**
 * The definition `un sources add` sends: `--json` as the base, then the kind
 * and the flags.
 */
export function addBody(args: string[]): Record<string, unknown> {
  const { values, positionals: rest } = parse(args, ADD_OPTIONS, ADD_USAGE);
  const body = jsonBase(values.json, ` such as '{"kind":"feed","url":"..."}'`);
  if (rest.length > 1) {
    throw new UsageError(`unexpected argument ${JSON.stringify(rest[1])}; usage: ${ADD_USAGE}`);
  }
  if (rest[0] !== undefined) body.kind = rest[0];
  if (body.kind === undefined) throw new UsageError(`missing <kind>; usage: ${ADD_USAGE}`);
  return withFlags(body, values);
}

/** The definition keys the flags of `add` (and `update`) set, over `body`. */
function withFlags(
  body: Record<string, unknown>,
  values: ReturnType<typeof parse>["values"],
): Record<string, unknown> {
  for (const [flag, key] of Object.entries(STRING_KEYS)) {
    if (values[flag] !== undefined) body[key] = values[flag];
  }
  for (const [flag, key] of Object.entries(LIST_KEYS)) {
    if (values[flag] !== undefined) body[key] = values[flag];
  }
  if (values.disabled) body.enabled = false;
  if (values.baseline) body.emitExisting = false;
  return body;
}

/**
 * What `un sources update <id>` sends: the id, and the keys to change
 * (`--json` as the base, then the flags of `add`).
 */
export function updateBody(args: string[]): { id: string; patch: Record<string, unknown> } {
  const { values, positionals: rest } = parse(args, ADD_OPTIONS, UPDATE_USAGE);
  const [id] = positionals(rest, 1, UPDATE_USAGE);
  const patch = withFlags(jsonBase(values.json, ` such as '{"interval":"30s"}'`), values);
  if (Object.keys(patch).length === 0) {
    throw new UsageError(`nothing to change; usage: ${UPDATE_USAGE}`);
  }
  return { id, patch };
}

/**
 * One row of the sources table.
 */
export function sourceRow(source: Wire<SourceView>, now = Date.now()): string[] {
  const status = source.status as SourceStatus | null;
  const lastScan = status?.lastScanAt ? `${age(status.lastScanAt, now)} ago` : "-";
  return [
    source.id,
    source.kind,
    source.enabled ? "yes" : "no",
    source.origin,
    lastScan,
    brief(status?.lastError ?? null, 60),
  ];
}

function list(args: string[]): Promise<number> {
  return listCommand(args, USAGE, (client) => client.json(client.api.un.sources.$get()), {
    items: (body) => body.sources,
    none: "no sources",
    head: ["ID", "KIND", "ENABLED", "ORIGIN", "LAST SCAN", "LAST ERROR"],
    row: (s) => sourceRow(s),
  });
}

/** `rm`, `enable`, `disable`: one id, one request, one line (and the config note). */
function change(verb: "rm" | "enable" | "disable"): (args: string[]) => Promise<number> {
  return (args) =>
    idCommand(args, `un sources ${verb} <id> [--json]`, async (client, param) => {
      const source = client.api.un.sources[":id"];
      return verb === "rm"
        ? await client.json(source.$delete(param))
        : await client.json(source[verb].$post(param));
    }, (id, body) => {
      const done = verb === "rm" ? "removed" : `${verb}d`;
      const line = "changed" in body && body.changed === false
        ? `source ${id} was already ${done}`
        : `${done} source ${id}`;
      return body.note ? [line, `note: ${body.note}`] : line;
    });
}

/** `process <id> <path>`: one `file.modified` (with `forced: true`) for one file of an fs source. */
async function processFile(args: string[]): Promise<number> {
  const usage = "un sources process <id> <path> [--json]";
  const { values, positionals: rest } = parse(args, { json: { type: "boolean" } }, usage);
  const [id, path] = positionals(rest, 2, usage);
  const client = UnClient.fromEnv();
  const body = await client.json(client.api.un.sources[":id"].process.$post({
    param: { id: encodeURIComponent(id) },
    json: { path },
  }));
  if (values.json) printJson(body);
  else console.log(`processed ${body.event.subject} of source ${id} (event ${body.event.id})`);
  return 0;
}

async function add(args: string[]): Promise<number> {
  const client = UnClient.fromEnv();
  const add = client.api.un.sources.add;
  // The flags make any kind's keys, unchecked here: the server's 400 names what is wrong.
  const json = addBody(args) as InferRequestType<typeof add.$post>["json"];
  const { source } = await client.json(add.$post({ json }));
  console.log(`added source ${source.id} (${source.kind})${source.enabled ? "" : ", disabled"}`);
  return 0;
}

async function update(args: string[]): Promise<number> {
  const { id, patch } = updateBody(args);
  const client = UnClient.fromEnv();
  const param = { id: encodeURIComponent(id) };
  const body = await client.json(client.api.un.sources[":id"].$patch({ param, json: patch }));
  console.log(`updated source ${id}`);
  if (body.note) console.log(`note: ${body.note}`);
  return 0;
}

/**
 * Runs `un sources`.
 */
export function sourcesCommand(args: string[]): Promise<number> {
  return dispatch(args, USAGE, list, {
    add,
    update,
    rm: change("rm"),
    enable: change("enable"),
    disable: change("disable"),
    process: processFile,
  });
}
