/**
 * `un why <id>`: why a task waits: its place in line (and how many are ahead
 * at each priority), its sort key in words, the scoring rules that matched,
 * what holds it and when it may start (`GET /un/tasks/:id/why`).
 */

import { parse, positionals } from "./args.ts";
import { UnClient } from "./client.ts";
import { UsageError } from "./errors.ts";
import { printJson, when } from "./format.ts";

const USAGE = "un why <id> [--json]";

/** Ids are ULIDs: anything else is bad input, said before asking the server. */
const TASK_ID = /^[0-9A-Za-z]{1,64}$/;

/**
 * Runs `un why`.
 */
export async function whyCommand(args: string[]): Promise<number> {
  const parsed = parse(args, { json: { type: "boolean" } }, USAGE);
  const [id] = positionals(parsed.positionals, 1, USAGE);
  if (!TASK_ID.test(id)) {
    throw new UsageError(`${JSON.stringify(id)} is not a task id; usage: ${USAGE}`);
  }
  const client = UnClient.fromEnv();
  const { why } = await client.json(
    client.api.un.tasks[":id"].why.$get({ param: { id } }),
  );
  if (parsed.values.json) {
    printJson(why);
    return 0;
  }
  const { task, position } = why;
  const lines = [`task ${task.id} (${task.type}, queue ${task.queue}, priority ${task.priority})`];
  lines.push(`  ${why.summary}`);
  if (position) {
    const byPriority = Object.entries(position.aheadByPriority)
      .sort(([a], [b]) => Number(b) - Number(a))
      .map(([priority, count]) => `${count} at priority ${priority}`)
      .join(", ");
    lines.push(
      `  place in line: ${position.place}${position.partial ? " or later" : ""} ` +
        `(${position.ahead} ahead${byPriority ? `: ${byPriority}` : ""})`,
    );
  }
  for (const hold of why.holds) lines.push(`  holds it: ${hold.message}`);
  lines.push(`  sort key ${task.sortKey}: ${why.sortKey.formula}`);
  for (const term of why.sortKey.terms) lines.push(`    ${term}`);
  if (why.urgency) {
    lines.push(
      `  deadline ${when(why.urgency.deadline)}: +${why.urgency.urgencyMs}ms urgency when scored`,
    );
  }
  for (const rule of why.rules) {
    lines.push(`  rule ${rule.name} matched: ${rule.levels > 0 ? "+" : ""}${rule.levels} levels`);
  }
  if (why.estimate) {
    lines.push(`  may start ${when(why.estimate.startAt)} (${why.estimate.basis})`);
  } else if (position) lines.push("  no estimate of when it starts");
  console.log(lines.join("\n"));
  return 0;
}
