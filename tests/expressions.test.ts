/**
 * The expression wrapper (lib/expressions/expression.ts): what compiles, what
 * a compile error says, and that a value lacking a field does not match.
 */

import assert from "node:assert/strict";
import { compileExpression, ExpressionError } from "../lib/expressions/expression.ts";

const task = { type: "embed", queue: "default", priority: 7, payload: { ext: ".md", size: 2000 } };

Deno.test("expressions over a task: fields, numbers, strings, regexes", () => {
  const yes = [
    'task.type == "embed"',
    "task.priority >= 5",
    "task.payload.size == 2000",
    'task.payload.ext in [".md", ".txt"]',
    'task.type.startsWith("em") && task.payload.ext.matches("^\\\\.md$")',
    'has(task.payload.ext) && task.payload.ext == ".md"',
  ];
  for (const source of yes) {
    assert.equal(compileExpression(source, ["task"]).test({ task }), true, source);
  }
  const no = ['task.type == "ocr"', "task.priority > 7", 'task.payload.ext == ".pdf"'];
  for (const source of no) {
    assert.equal(compileExpression(source, ["task"]).test({ task }), false, source);
  }
});

Deno.test("a value without the field, or an error while evaluating, does not match", () => {
  const ext = compileExpression('task.payload.ext == ".md"', ["task"]);
  assert.equal(ext.test({ task: { ...task, payload: null } }), false);
  assert.equal(ext.test({ task: { ...task, payload: {} } }), false);
  assert.equal(compileExpression("1 / 0 == 1", ["task"]).test({ task }), false);
});

Deno.test("compile errors name the problem and where it is", () => {
  const cases: Array<[string, RegExp]> = [
    ['task.type == "a" &&', /Unexpected token: EOF \(at character 20\)/],
    ["foo == 1", /Unknown variable: foo/],
    ["1 + 1", /gives int, not true or false/],
    ["x".repeat(2_001), /longer than 2000 characters/],
  ];
  for (const [source, reason] of cases) {
    assert.throws(() => compileExpression(source, ["task"]), (err: unknown) => {
      assert.ok(err instanceof ExpressionError);
      assert.equal(err.source, source);
      assert.match(err.reason, reason);
      return true;
    });
  }
});

Deno.test("no JavaScript reaches the evaluator: globals are unknown variables", () => {
  for (const source of ['constructor.constructor("return 1")() == 1', "globalThis == null"]) {
    assert.throws(() => compileExpression(source, ["task"]), ExpressionError);
  }
  const proto = compileExpression('task.constructor == "x"', ["task"]);
  assert.equal(proto.test({ task }), false);
});
