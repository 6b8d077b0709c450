/**
 * The `prioritizer` piece of the configuration schema: how tasks are ordered
 * (priority levels, aging, deadlines) and what the learned model may do
 * (lib/tasks/learn/). Kept apart from `schema.ts` so the prioritizer's
 * settings live in one place.
 */

import { z } from "zod";
import { duration, ms } from "./fields.ts";
import { scoreRulesSchema } from "./score-rules.ts";

/** A placeholder template over the task, such as `"{type}:{payload.ext}"`. */
const keyTemplate = z.string().min(1).max(200).regex(/\{[^{}]+\}/, {
  error: 'must contain a placeholder such as "{type}:{payload.ext}"',
});

/** The `prioritizer` settings. */
export const prioritizerSchema = z.strictObject({
  priorityStepMs: ms(1, 86_400_000).default(60_000).describe(
    "Waiting this long is worth one priority level (aging without re-sorting).",
  ),
  deadlineWindowMs: ms(0, 86_400_000).default(60_000).describe(
    "Tasks this close to their deadline are re-scored ahead.",
  ),
  learn: z.boolean().default(true).describe(
    "Learn per task type how often it succeeds and how long it runs, and run those with the most success per second first within a priority level (weighted shortest job first; [tasks.md](tasks.md#the-prioritizer)).",
  ),
  learnWeight: z.number().min(0).max(10).default(0.5).describe(
    "The most the learned score may move a task, in priority levels (default half a level: learning reorders within a level, never across one). Over 1, a favourite type may overtake a higher priority.",
  ),
  halfLife: duration(1_000, 30 * 86_400_000).default(3_600_000).describe(
    'Forgetting: a run this old counts half as much as a new one (`"1h"`), so the model follows drift.',
  ),
  scoreBy: keyTemplate.optional().describe(
    'Learn per feature key instead of per type: a template over the task (`"{type}:{payload.ext}"`, the placeholders of hook templates), so "embed of .md" and "embed of .pdf" learn apart.',
  ),
  rules: scoreRulesSchema,
}).prefault({});
