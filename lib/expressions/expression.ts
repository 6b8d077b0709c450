/**
 * Expressions over a task or an event (`prioritizer.rules[].when`; later hook
 * conditions): compiled once, evaluated many times.
 *
 * The language is CEL, the Common Expression Language of Kubernetes and
 * Google's policy engines, through `@marcbachmann/cel-js`. Chosen because:
 * - it is an interpreter over a parsed tree: no `eval` or `new Function` of
 *   anything a user wrote;
 * - CEL is not Turing complete (no loops, no recursion), and the parser bounds
 *   the tree's size and depth, so an expression cannot hang a process;
 * - the package has no dependencies, ships its own types, and is maintained
 *   (8.0.0 in August 2026, releases every few weeks); filtrex and jexl had no
 *   release since December 2024, and filtrex compiles to JavaScript source.
 *
 * Only this module knows the library: the rest of `un` sees
 * {@link compileExpression} and {@link Expression}.
 */

import { Environment } from "@marcbachmann/cel-js";
import { errorText } from "../errors.ts";

/** A compiled expression. */
export interface Expression {
  /** The text it was compiled from. */
  readonly source: string;
  /**
   * True when the expression is `true` for these variables. An expression that
   * cannot be evaluated for them (a field the value lacks, a type mismatch,
   * division by zero) is false: a rule or condition about a field applies only
   * to values that have it.
   */
  test(variables: Readonly<Record<string, unknown>>): boolean;
}

/** An expression that does not compile: bad syntax, an unknown variable, or not a yes/no answer. */
export class ExpressionError extends Error {
  constructor(readonly source: string, readonly reason: string) {
    super(reason);
    this.name = "ExpressionError";
  }
}

/** Bounds on a parsed expression: far above any real condition, well below harm. */
const LIMITS = {
  maxAstNodes: 2_000,
  maxDepth: 50,
  maxListElements: 1_000,
  maxMapEntries: 1_000,
  maxCallArguments: 32,
};

/** Longest expression text accepted. */
export const MAX_EXPRESSION_LENGTH = 2_000;

/**
 * Compiles `source` with the given variable names (each of any type, such as
 * `task` for `task.payload.ext == ".md"`). Throws {@link ExpressionError}
 * naming the problem and where it is.
 *
 * @example
 * ```ts
 * const when = compileExpression('task.type == "embed" && task.priority >= 5', ["task"]);
 * when.test({ task: { type: "embed", priority: 7 } }); // true
 * ```
 */
export function compileExpression(source: string, variables: readonly string[]): Expression {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(source, `longer than ${MAX_EXPRESSION_LENGTH} characters`);
  }
  const env = new Environment({ limits: LIMITS });
  for (const name of variables) env.registerVariable(name, "dyn");
  let program: ReturnType<Environment["parse"]>;
  try {
    program = env.parse(source);
  } catch (err) {
    throw new ExpressionError(source, reasonOf(err));
  }
  const checked = program.check();
  if (!checked.valid) throw new ExpressionError(source, reasonOf(checked.error));
  // `dyn`: known only when evaluated (a field of a variable); anything else must be a bool.
  const type = String(checked.type);
  if (type !== "bool" && type !== "dyn") {
    throw new ExpressionError(source, `gives ${type}, not true or false`);
  }
  return {
    source,
    test(values) {
      try {
        return program(values) === true;
      } catch {
        return false;
      }
    },
  };
}

/** The library's message, on one line (it draws a caret under the source on the next ones). */
function reasonOf(err: unknown): string {
  const message = errorText(err);
  const [first, ...rest] = message.split("\n").filter((line) => line.trim() !== "");
  const shown = rest.find((line) => line.startsWith(">"));
  const caret = rest.find((line) => /^\s*\^\s*$/.test(line));
  if (shown === undefined || caret === undefined) return first;
  const at = caret.indexOf("^") - (shown.indexOf("| ") + 2);
  return at >= 0 ? `${first} (at character ${at + 1})` : first;
}
