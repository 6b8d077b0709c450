/**
 * `un subscriptions`: list the webhook subscriptions (table or `--json`),
 * add one (`add <pattern> <url> [--where EXPR] [--secret S] [--ordered]
 * [--max-attempts N]`, printing the secret once), remove one (`delete <id>`).
 */

import { intFlag, type Options, parse, positionals } from "./args.ts";
import { UnClient } from "./client.ts";
import { UsageError } from "./errors.ts";
import { brief, printJson, printList } from "./format.ts";

const USAGE = "un subscriptions [--json] | un subscriptions add <pattern> <url> [--where CEL] " +
  "[--secret whsec_...] [--ordered] [--max-attempts N] [--json] | " +
  "un subscriptions delete <id> [--json]";

const ADD_FLAGS: Options = {
  json: { type: "boolean" },
  where: { type: "string" },
  secret: { type: "string" },
  ordered: { type: "boolean" },
  "max-attempts": { type: "string" },
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

async function list(args: string[]): Promise<number> {
  const { values, positionals: rest } = parse(args, { json: { type: "boolean" } }, USAGE);
  positionals(rest, 0, USAGE);
  const client = UnClient.fromEnv();
  const body = await client.json(client.api.un.subscriptions.$get());
  printList(body, body.subscriptions, {
    json: values.json === true,
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
  return 0;
}

/**
 * Runs `un subscriptions`.
 */
export async function subscriptionsCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case undefined:
      return list([]);
    case "add": {
      const { body: json, json: asJson } = addSubscriptionBody(rest);
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
    case "delete":
    case "rm": {
      const { values, positionals: given } = parse(rest, { json: { type: "boolean" } }, USAGE);
      const [id] = positionals(given, 1, USAGE);
      const client = UnClient.fromEnv();
      const body = await client.json(
        client.api.un.subscriptions[":id"].$delete({ param: { id: encodeURIComponent(id) } }),
      );
      if (values.json) printJson(body);
      else console.log(`deleted subscription ${id}`);
      return 0;
    }
    default:
      if (sub.startsWith("-")) return list(args);
      throw new UsageError(
        `unknown subcommand ${JSON.stringify(sub)} (add, delete); usage: ${USAGE}`,
      );
  }
}
