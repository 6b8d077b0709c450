/**
 * Scoring rules (`prioritizer.rules`): `{ name, when, levels }`, where `when`
 * is an expression over the task (lib/expressions/: `task.type == "embed" &&
 * task.payload.ext == ".md"`). A task a rule matches at enqueue goes `levels`
 * priority levels earlier (negative: later), as if its priority were that
 * much higher; the explanation names each rule that matched.
 *
 * Rules are compiled when the config is read, so a bad `when` is a config
 * error naming the rule, the expression and the parse error, never a failed
 * enqueue; the prioritizer then compiles them once (cached per config).
 */

import { z } from "zod";
import { compileExpression, type Expression, ExpressionError } from "../expressions/expression.ts";
import { withRules } from "./priority.ts";
import type { NewTask, ScoreExplanation } from "./task.ts";

/** What a rule's `when` sees as `task`. */
export type RuleSubject = Pick<
  NewTask,
  | "type"
  | "queue"
  | "priority"
  | "payload"
  | "key"
  | "correlationId"
  | "resources"
  | "deadline"
  | "runAt"
  | "maxAttempts"
  | "dependsOn"
>;

/** The variables an expression over a task may name. */
const VARIABLES = ["task"] as const;

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
        compileExpression(rule.when, VARIABLES);
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

/**
 * The `prioritizer` settings the rules are read from (a config without
 * `rules` has none).
 */
export interface RuleSettings {
  priorityStepMs: number;
  rules?: readonly ScoreRule[];
}

/** A rule that matched a task, as its explanation records it. */
export interface MatchedRule {
  name: string;
  levels: number;
}

/** Compiled rules. */
export class ScoreRules {
  readonly #rules: Array<{ name: string; levels: number; when: Expression }>;

  /** Compiles each rule (throws ExpressionError on a bad one: the config schema refuses those first). */
  constructor(rules: readonly ScoreRule[]) {
    this.#rules = rules.map((rule) => ({
      name: rule.name,
      levels: rule.levels,
      when: compileExpression(rule.when, VARIABLES),
    }));
  }

  /** The rules whose `when` is true for the task, in config order. */
  match(task: RuleSubject): MatchedRule[] {
    if (this.#rules.length === 0) return [];
    const subject = {
      task: {
        type: task.type,
        queue: task.queue,
        priority: task.priority,
        payload: task.payload,
        key: task.key,
        correlationId: task.correlationId,
        resources: task.resources,
        deadline: task.deadline,
        runAt: task.runAt,
        maxAttempts: task.maxAttempts,
        dependsOn: task.dependsOn,
      },
    };
    return this.#rules
      .filter((rule) => rule.when.test(subject))
      .map(({ name, levels }) => ({ name, levels }));
  }
}

const compiled = new WeakMap<readonly ScoreRule[], ScoreRules>();
const NONE = new ScoreRules([]);

/**
 * The compiled rules of a `prioritizer` config, compiled on first use and
 * kept for as long as that config lives.
 */
export function scoreRulesOf(settings: RuleSettings): ScoreRules {
  const rules = settings.rules;
  if (rules === undefined || rules.length === 0) return NONE;
  let found = compiled.get(rules);
  if (found === undefined) {
    found = new ScoreRules(rules);
    compiled.set(rules, found);
  }
  return found;
}

/**
 * A scored task with the rules that match it applied (its sort key moved by
 * their levels, their names in its explanation).
 */
export function applyScoreRules<
  T extends RuleSubject & { sortKey: number; explanation: ScoreExplanation },
>(settings: RuleSettings, task: T): T {
  return withRules(task, scoreRulesOf(settings).match(task));
}

/**
 * A re-scored task's sort key and explanation with its rules applied, as
 * `reprioritize` takes them (a task no longer found: as scored).
 */
export function keyWithRules(
  settings: RuleSettings,
  task: RuleSubject | null,
  scored: { sortKey: number; explanation: ScoreExplanation },
): [number, ScoreExplanation] {
  const ruled = task === null ? scored : withRules(scored, scoreRulesOf(settings).match(task));
  return [ruled.sortKey, ruled.explanation];
}
