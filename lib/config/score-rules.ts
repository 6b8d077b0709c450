/**
 * The `prioritizer.rules` piece of the configuration schema (lib/tasks/score-rules.ts
 * applies them): each rule's `when` is compiled as the config is read, so a
 * bad expression is a config error naming the rule, the expression and the
 * parse error.
 */

import { z } from "zod";
import { compileExpression, ExpressionError } from "../expressions/expression.ts";

/** The variables an expression over a task may name. */
export const RULE_VARIABLES = ["task"] as const;

/** One rule as the config gives it. */
export const scoreRuleSchema = z.strictObject({
  name: z.string().min(1).max(100).describe("Named in the task's explanation when it matches."),
  when: z.string().min(1).describe(
    'A CEL expression over `task` (type, queue, priority, payload, key, correlationId, resources, deadline, runAt, maxAttempts, dependsOn): `task.type == "embed" && task.payload.ext == ".md"`. A task without a field it names does not match.',
  ),
  levels: z.number().min(-20).max(20).refine((n) => n !== 0, { error: "must not be 0" })
    .describe("Priority levels the task moves earlier when it matches (negative: later)."),
});

/** A scoring rule. */
export type ScoreRule = z.infer<typeof scoreRuleSchema>;

/** `prioritizer.rules`, each `when` compiled as it is read. */
export const scoreRulesSchema = z.array(scoreRuleSchema).max(100).default([]).superRefine(
  (rules, ctx) => {
    const seen = new Set<string>();
    for (const [index, rule] of rules.entries()) {
      if (seen.has(rule.name)) {
        ctx.addIssue({
          code: "custom",
          path: [index, "name"],
          message: `rule "${rule.name}" is named twice`,
        });
      }
      seen.add(rule.name);
      try {
        compileExpression(rule.when, RULE_VARIABLES);
      } catch (err) {
        if (!(err instanceof ExpressionError)) throw err;
        ctx.addIssue({
          code: "custom",
          path: [index, "when"],
          message: `rule "${rule.name}": ${
            JSON.stringify(rule.when)
          } does not compile: ${err.reason}`,
        });
      }
    }
  },
).describe(
  "Scoring rules: a task whose `when` matches at enqueue moves `levels` priority levels ([tasks.md](tasks.md#scoring-rules)).",
);
