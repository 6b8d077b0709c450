/**
 * `un batches <id>` against a running instance: a batch's tasks per state
 * as a table with its progress, `--json` as the API gives it, and an
 * unknown batch as the server's 404 (exit 1).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { BatchView } from "../lib/store/types.ts";
import { runCli } from "./helpers/cli.ts";
import { eventually } from "./helpers/eventually.ts";
import { api } from "./helpers/http.ts";
import { REPO, startUn } from "./helpers/un-process.ts";

const HANDLERS = join(REPO, "tests/fixtures/fanout-handlers.ts");

Deno.test("un batches <id>: a table of states with the progress, or --json", async () => {
  await using un = await startUn({ config: { handlers: HANDLERS } });
  const tasks = Array.from({ length: 3 }, (_, i) => ({ type: "child", payload: { i, ms: 1 } }));
  const created = await api(un.url, "POST", "/un/tasks/create", { tasks, batch: { id: "cli-1" } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await eventually(async () => {
    const res = await api<{ batch: BatchView }>(un.url, "GET", "/un/batches/cli-1");
    return res.body.batch.completedAt ? true : null;
  }, { message: "the batch to complete" });

  const shown = await runCli(["batches", "cli-1"], { UN_URL: un.url });
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^batch cli-1: 3 tasks, 100% done, completed /);
  assert.match(shown.stdout, /STATE\s+TASKS\nsucceeded\s+3/);

  const json = await runCli(["batches", "cli-1", "--json"], { UN_URL: un.url });
  assert.equal(json.code, 0, json.stderr);
  const batch = JSON.parse(json.stdout) as BatchView;
  assert.deepEqual({ total: batch.total, counts: batch.counts, done: batch.done }, {
    total: 3,
    counts: { succeeded: 3 },
    done: true,
  });

  const missing = await runCli(["batches", "nope"], { UN_URL: un.url });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /batch nope not found/);
});
