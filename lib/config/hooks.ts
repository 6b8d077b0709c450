/**
 * The `hooks[]` piece of the configuration schema (a source's `hooks`
 * shorthand is the same with `on` optional): event pattern in, task out.
 * Kept apart from `schema.ts`, which is near its size limit.
 */

import { z } from "zod";
import { int, ms, pattern, priority } from "./fields.ts";
import { isolateFlag } from "./isolate.ts";

/** One hook: events whose type matches `on` each make a task. */
export const hookSchema = z.strictObject({
  on: pattern.describe(
    "Event type pattern: `*` is one segment, `**` one or more (`file.*`, `task.**`). On a source's `hooks`: optional, every event of that source.",
  ),
  task: z.string().min(1).max(200).describe("The task type to run."),
  priority: priority.optional().describe(
    "The task's priority (9 first); by default from the event's (critical 9, high 7, normal 5, low 2).",
  ),
  queue: z.string().min(1).max(100).optional().describe("The task's queue."),
  delayMs: ms(0, 30 * 86_400_000).optional().describe("Run the task this long after the event."),
  payload: z.record(z.string(), z.unknown()).optional().describe(
    "Merged over the event's data; the task's payload also gets `event: {id, type, source, subject}`.",
  ),
  key: z.string().min(1).max(500).optional().describe(
    'Dedupe key template such as `"embed:{subject}"` (`{subject}`, `{type}`, `{id}`, `{source}`, `{data.path}`): a live task with the same key absorbs the new one.',
  ),
  maxAttempts: int(1, 100).optional().describe("Attempts (default `workers.maxAttempts`)."),
  timeoutMs: ms(1, 86_400_000).optional().describe(
    "Per-task timeout (default `workers.timeoutMs`).",
  ),
  isolate: isolateFlag.describe(
    "Run the handler of the tasks this hook makes in a Web Worker of its own, terminated when it ignores `ctx.signal` past `workers.killAfterMs` ([tasks.md](tasks.md#hard-timeouts)).",
  ),
});
