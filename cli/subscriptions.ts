/**
 * `un subscriptions`: list the webhook subscriptions (table or `--json`),
 * add one (`add <pattern> <url> [--where EXPR] [--secret S] [--ordered]
 * [--max-attempts N]`, printing the secret once), change one (`update <id>
 * [--url U] [--pattern P] ...`), switch one on or off (`enable|disable <id>`;
 * enable also clears an auto-disabled one's failures), remove one (`delete <id>`).
 */

import { intFlag, type Options, parse, positionals } from "./args.ts";
import { UnClient } from "./client.ts";
import { UsageError } from "./errors.ts";
import { brief, printJson } from "./format.ts";
import { dispatch, idCommands, listCommand } from "./resource.ts";

const USAGE = "un subscriptions [--json] | un subscriptions add <pattern> <url> [--where CEL] " +
  "[--secret whsec_...] [--ordered] [--max-attempts N] [--json] | " +
  "un subscriptions update <id> [--pattern P] [--url U] [--where CEL] [--secret whsec_...] " +
  "[--ordered | --unordered] [--max-attempts N] [--json] | " +
  "un subscriptions enable|disable|delete <id> [--json]";

const ADD_FLAGS: Options = {
  json: { type: "boolean" },
  where: { type: "string" },
  secret: { type: "string" },
  ordered: { type: "boolean" },
  "max-attempts": { type: "string" },
};

const UPDATE_FLAGS: Options = {
  ...ADD_FLAGS,
  pattern: { type: "string" },
  url: { type: "string" },
  unordered: { type: "boolean" },
};

/** The body `un subscriptions add` sends. */
export function addSubscriptionBody(args: string[]): {
  body: { pattern: string; url: string; [key: string]: unknown };
  json: boolean;
} {
  const { values, positionals: rest } = parse(args, ADD_FLAGS, USAGE);
  const [pattern, url] = positionals(rest, 2, USAGE);
  const body: { pattern: string; url: string; [key: string]: unknown } = { pattern, url };
  if (values.where !== undefined) body.where = values.where;
  if (values.secret !== undefined) body.secret = values.secret;
  if (values.ordered) body.ordered = true;
  if (values["max-attempts"] !== undefined) {
    body.maxAttempts = intFlag(values["max-attempts"], "--max-attempts", 1, 100);
  }
  return { body, json: values.json === true };
}

/** What `un subscriptions update <id>` sends: the keys its flags set. */
export function updateSubscriptionBody(args: string[]): {
  id: string;
  body: Record<string, unknown>;
  json: boolean;
} {
  const { values, positionals: rest } = parse(args, UPDATE_FLAGS, USAGE);
  const [id] = positionals(rest, 1, USAGE);
  if (values.ordered && values.unordered) {
    throw new UsageError(`--ordered and --unordered together; usage: ${USAGE}`);
  }
  const body: Record<string, unknown> = {};
  for (const key of ["pattern", "url", "where", "secret"] as const) {
    if (values[key] !== undefined) body[key] = values[key];
  }
  if (values.ordered || values.unordered) body.ordered = values.ordered === true;
  if (values["max-attempts"] !== undefined) {
    body.maxAttempts = intFlag(values["max-attempts"], "--max-attempts", 1, 100);
  }
  if (Object.keys(body).length === 0) throw new UsageError(`nothing to change; usage: ${USAGE}`);
  return { id, body, json: values.json === true };
}

function list(args: string[]): Promise<number> {
  return listCommand(args, USAGE, (client) => client.json(client.api.un.subscriptions.$get()), {
    items: (body) => body.subscriptions,
    none: "no subscriptions",
    head: ["ID", "ENABLED", "PATTERN", "URL", "WHERE", "ORDERED", "FAILURES"],
    row: (s) => [
      s.id,
      s.enabled ? "yes" : `no (${s.disabledReason ?? "disabled"})`,
      s.pattern,
      brief(s.url, 50),
      brief(s.where ?? null, 40),
      s.ordered ? "yes" : "no",
      String(s.failures),
    ],
  });
}

async function add(args: string[]): Promise<number> {
  const { body: json, json: asJson } = addSubscriptionBody(args);
  const client = UnClient.fromEnv();
  const body = await client.json(client.api.un.events.subscribe.$post({ json }));
  if (asJson) printJson(body);
  else {
    const s = body.subscription;
    console.log(`added subscription ${s.id} (${s.pattern} → ${s.url})`);
    console.log(`secret (shown once): ${s.secret}`);
  }
  return 0;
}

async function update(args: string[]): Promise<number> {
  const { id, body: json, json: asJson } = updateSubscriptionBody(args);
  const client = UnClient.fromEnv();
  const param = { id: encodeURIComponent(id) };
  const body = await client.json(client.api.un.subscriptions[":id"].$patch({ param, json }));
  if (asJson) printJson(body);
  else console.log(`updated subscription ${id}`);
  return 0;
}

/**
 * Runs `un subscriptions`.
 */
export function subscriptionsCommand(args: string[]): Promise<number> {
  return dispatch(args, USAGE, list, {
    add,
    update,
    ...idCommands(USAGE, "subscription", {
      remove: (client, request) => client.json(client.api.un.subscriptions[":id"].$delete(request)),
      patch: (client, request) => client.json(client.api.un.subscriptions[":id"].$patch(request)),
    }),
  }, { rm: "delete" });
}
