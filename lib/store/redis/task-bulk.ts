/**
 * Bulk changes on Redis: one `change-10.lua` run per batch, so a bulk action
 * holds Redis for one batch at a time and claims run between batches.
 */

import type { TaskChange, TaskChangeResult } from "../types.ts";
import { orderJson } from "./codec.ts";
import { type RedisContext, runTaskScript } from "./context.ts";
import { asList, asTask, parseTransitions } from "./replies.ts";

/**
 * Applies a bulk change to the tasks it names, in one script run.
 */
export async function changeTasks(
  ctx: RedisContext,
  change: TaskChange,
  now: number,
): Promise<TaskChangeResult> {
  const items = change.action === "reprioritize"
    ? change.tasks.flatMap((t) => [
      t.id,
      String(t.sortKey),
      orderJson(t.priority, t.sortKey, t.explanation),
    ])
    : change.ids;
  if (items.length === 0) return { tasks: [], dependents: [] };
  const reply = await runTaskScript(ctx, "change", [change.action, String(now), ...items], {
    op: `changeTasks ${change.action}`,
  });
  const [tasks, dependents] = asList(reply, "changeTasks");
  return {
    tasks: asList(tasks, "changeTasks").map((fields) => asTask(fields, "changeTasks")),
    dependents: parseTransitions(dependents, "changeTasks"),
  };
}
