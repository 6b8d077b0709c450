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

import { compileExpression, type Expression } from "../expressions/expression.ts";
import { RULE_VARIABLES, type ScoreRule } from "../config/score-rules.ts";
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
      when: compileExpression(rule.when, RULE_VARIABLES),
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
