/**
 * Scoring rules (`prioritizer.rules`): a bad `when` is a config error naming
 * the rule, the expression and the parse error; a rule that matches moves the
 * task's sort key by its levels and the explanation (and `why`) names it,
 * at enqueue on a real `un start` and again when the task is reprioritized.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseConfig } from "../lib/config/load.ts";
import { ScoreRules } from "../lib/tasks/score-rules.ts";
import type { WhyAnswer } from "../lib/tasks/why.ts";
import { createTask, taskState } from "./helpers/api.ts";
import { api } from "./helpers/http.ts";
import { REPO, startUn } from "./helpers/un-process.ts";

const HANDLERS = join(REPO, "tests/fixtures/bulk-handlers.ts");

Deno.test("a rule whose when does not compile is a config error naming rule, expression and error", () => {
  const rules = [
    { name: "md-first", when: 'task.payload.ext == ".md"', levels: 2 },
    { name: "broken", when: 'task.type == "a" &&', levels: 1 },
  ];
  assert.throws(
    () => parseConfig({ prioritizer: { rules } }),
    (err: unknown) => {
      const message = (err as Error).message;
      assert.match(message, /prioritizer\.rules\.1\.when|prioritizer\.rules\[1\]\.when/, message);
      assert.match(message, /rule "broken"/, message);
      assert.match(message, /"task\.type == \\"a\\" &&"/, message);
      assert.match(message, /Unexpected token: EOF/, message);
      return true;
    },
  );
  assert.throws(
    () =>
      parseConfig({
        prioritizer: { rules: [{ name: "n", when: "task.priority + 1", levels: 1 }] },
      }),
    /gives int, not true or false/,
  );
  const ok = parseConfig({ prioritizer: { rules: [rules[0]] } });
  assert.deepEqual(ok.prioritizer.rules, [rules[0]]);
});

Deno.test("rules match in config order; a task without the field does not match", () => {
  const rules = new ScoreRules([
    { name: "md", when: 'task.payload.ext == ".md"', levels: 2 },
    { name: "bulk-queue", when: 'task.queue == "bulk"', levels: -1 },
  ]);
  const task = {
    type: "embed",
    queue: "bulk",
    priority: 5,
    payload: { ext: ".md" },
    key: null,
    correlationId: null,
    resources: {},
    deadline: null,
    runAt: null,
    maxAttempts: 3,
    dependsOn: [],
  };
  assert.deepEqual(rules.match(task), [
    { name: "md", levels: 2 },
    { name: "bulk-queue", levels: -1 },
  ]);
  assert.deepEqual(rules.match({ ...task, queue: "default", payload: null }), []);
});

Deno.test("a matching rule moves the task by its levels, and the explanation and why name it", async () => {
  const step = 60_000;
  await using un = await startUn({
    config: {
      handlers: HANDLERS,
      prioritizer: {
        learn: false,
        priorityStepMs: step,
        rules: [{ name: "md-first", when: 'task.payload.ext == ".md"', levels: 2 }],
      },
    },
  });
  await api(un.url, "POST", "/un/queues/held/pause");
  const plain = await createTask(un, {
    type: "busy",
    queue: "held",
    payload: { ms: 1, ext: ".pdf" },
  });
  const md = await createTask(un, { type: "busy", queue: "held", payload: { ms: 1, ext: ".md" } });
  assert.equal(plain.explanation.rules, undefined);
  assert.deepEqual(md.explanation.rules, [{ name: "md-first", levels: 2 }]);
  assert.equal(md.explanation.rulesMs, 2 * step);
  assert.equal(md.sortKey, md.explanation.enqueuedAt - 5 * step - 2 * step);
  assert.equal(plain.sortKey, plain.explanation.enqueuedAt - 5 * step);

  const shown = await taskState(un, md.id);
  const notes = (shown.explanation as { notes?: string[] }).notes ?? [];
  assert.ok(notes.some((n) => /rule md-first matched: \+2 levels/.test(n)), notes.join("\n"));

  const res = await api<{ why: WhyAnswer }>(un.url, "GET", `/un/tasks/${md.id}/why`);
  assert.deepEqual(res.body.why.rules, [{ name: "md-first", levels: 2 }]);
  assert.equal(res.body.why.position?.place, 1, "the rule put the later task first");
  assert.ok(res.body.why.sortKey.terms.some((t) => /md-first/.test(t)));

  const moved = await api<{ task: typeof md }>(un.url, "POST", `/un/tasks/${md.id}/priority`, {
    priority: 7,
  });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  assert.deepEqual(moved.body.task.explanation.rules, [{ name: "md-first", levels: 2 }]);
  assert.equal(
    moved.body.task.sortKey,
    moved.body.task.explanation.enqueuedAt - 7 * step - 2 * step,
  );
});
