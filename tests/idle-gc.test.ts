/**
 * Memory handed back once a burst is over: `un start` runs with V8's memory
 * reducer off (it cost the JIT its code), so the runtime collects once per
 * quiet spell itself (lib/processes/idle-gc.ts). The rule is checked on its
 * own, and a real `un start` logs the collection after a burst of tasks.
 */

import assert from "node:assert/strict";
import { IdleGcRule } from "../lib/processes/idle-gc.ts";
import { api } from "./helpers/http.ts";
import { startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const MB = 1024 * 1024;

Deno.test("collects only after a look at which nothing happened, and only when there is garbage", () => {
  const rule = new IdleGcRule();
  assert.equal(rule.look(1, 100 * MB), false, "the first look has nothing to compare with");
  assert.equal(rule.look(7, 120 * MB), false, "events went through: busy");
  assert.equal(rule.look(7, 120 * MB), true, "quiet, with 120 MB over nothing collected");
  rule.collected(20 * MB);
  assert.equal(rule.look(7, 30 * MB), false, "quiet, but 10 MB over what the collection left");
  assert.equal(rule.look(9, 60 * MB), false, "busy again");
  assert.equal(rule.look(9, 60 * MB), true, "quiet again, 40 MB over");
});

Deno.test("un start collects once a burst of tasks is over, and says so at debug level", async () => {
  await using un = await startUn({
    config: { log: { level: "debug" }, workers: { concurrency: 4 } },
  });
  const text = "x".repeat(800);
  for (let batch = 0; batch < 10; batch++) {
    const tasks = Array.from({ length: 1_000 }, (_, i) => ({ type: "noop", payload: { i, text } }));
    const res = await api(un.url, "POST", "/un/tasks/create", { tasks });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  await eventually(async () => {
    const { body } = await api<{ queues: Record<string, { succeeded: number }> }>(
      un.url,
      "GET",
      "/un/queues",
    );
    return body.queues.default?.succeeded === 10_000;
  }, { timeoutMs: 60_000, message: "the burst to be done" });
  const line = await eventually(
    () => un.stderrText().split("\n").find((l) => l.includes("idle collection")),
    { timeoutMs: 15_000, message: "an idle collection to be logged" },
  );
  const [before, after] = ["beforeBytes", "afterBytes"].map((key) =>
    Number(line.match(new RegExp(`"?${key}"?[=:]\\s*(\\d+)`))?.[1])
  );
  assert.ok(after < before, `the collection freed memory: ${line}`);
});
