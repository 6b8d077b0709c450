/**
 * `un publish <type>`: publishes an event, as a source would; hooks turn it
 * into tasks.
 */

import { type CloudEvent, EVENT_PRIORITIES } from "../lib/events.ts";
import { jsonFlag, oneOfFlag, parse, positionals } from "./args.ts";
import { UnClient } from "./client.ts";
import { printJson } from "./format.ts";

const USAGE =
  "un publish <type> [--data JSON] [--subject S] [--priority critical|high|normal|low] [--json]";

/**
 * Runs `un publish`.
 *
 * @example
 * ```ts
 * await publishCommand(["deploy.finished", "--data", '{"env":"prod"}']);
 * ```
 */
export async function publishCommand(args: string[]): Promise<number> {
  const { values, positionals: rest } = parse(args, {
    data: { type: "string" },
    subject: { type: "string" },
    priority: { type: "string" },
    json: { type: "boolean" },
  }, USAGE);
  const [type] = positionals(rest, 1, USAGE);
  const body: Record<string, unknown> = { type };
  const data = jsonFlag(values.data, "--data");
  if (data !== undefined) body.data = data;
  if (values.subject !== undefined) body.subject = values.subject;
  const priority = oneOfFlag(values.priority, "--priority", EVENT_PRIORITIES);
  if (priority) body.priority = priority;
  const answer = await UnClient.fromEnv().post<{ event: CloudEvent }>("/un/events/publish", body);
  if (values.json) printJson(answer);
  else console.log(`published ${answer.event.type} ${answer.event.id}`);
  return 0;
}
