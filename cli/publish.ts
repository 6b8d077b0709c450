/**
 * `un publish <type>`: publishes an event, as a source would; hooks turn it
 * into tasks.
 */

import { EVENT_PRIORITIES } from "../lib/events/cloud-event.ts";
import { jsonFlag, oneOfFlag, parse, positionals } from "./args.ts";
import { UnClient } from "./client.ts";
import { printJson } from "./format.ts";

const USAGE =
  "un publish <type> [--data JSON] [--subject S] [--priority critical|high|normal|low] [--json]";

/**
 * Runs `un publish`.
 */
export async function publishCommand(args: string[]): Promise<number> {
  const { values, positionals: rest } = parse(args, {
    data: { type: "string" },
    subject: { type: "string" },
    priority: { type: "string" },
    json: { type: "boolean" },
  }, USAGE);
  const [type] = positionals(rest, 1, USAGE);
  const data = jsonFlag(values.data, "--data");
  const priority = oneOfFlag(values.priority, "--priority", EVENT_PRIORITIES);
  const client = UnClient.fromEnv();
  const answer = await client.json(client.api.un.events.publish.$post({
    json: { type, data, subject: values.subject, priority: priority || undefined },
  }));
  if (values.json) printJson(answer);
  else console.log(`published ${answer.event.type} ${answer.event.id}`);
  return 0;
}
