/**
 * `un batches <id>` against a running instance: a batch's tasks per state
 * as a table with its progress, `--json` as the API gives it, and an
 * unknown batch as the server's 404 (exit 1). `un batches`: the batches as
 * a table, newest first, `--state`, `--limit` (with the next page's
 * command) and `--json`, and bad flags as usage errors (exit 2).
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

Deno.test("un batches: a table newest first, --state, --limit and --json", async () => {
  await using un = await startUn({ config: { handlers: HANDLERS } });
  const child = (i: number) => ({ type: "child", payload: { i, ms: 1 } });
  const none = await runCli(["batches"], { UN_URL: un.url });
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout.trim(), "no batches");
  for (const id of ["old-1", "new-2"]) {
    const tasks = [child(1), child(2)];
    const created = await api(un.url, "POST", "/un/tasks/create", { tasks, batch: { id } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await eventually(async () => {
      const res = await api<{ batch: BatchView }>(un.url, "GET", `/un/batches/${id}`);
      return res.body.batch.completedAt ? true : null;
    }, { message: `${id} to complete` });
  }

  const shown = await runCli(["batches"], { UN_URL: un.url });
  assert.equal(shown.code, 0, shown.stderr);
  const lines = shown.stdout.trim().split("\n");
  assert.match(lines[0], /^ID\s+TASKS\s+STATES\s+PROGRESS\s+CREATED\s+COMPLETED$/);
  assert.match(lines[1], /^new-2\s+2\s+2 succeeded\s+100%\s+\S+ ago\s+\S+ ago$/);
  assert.match(lines[2], /^old-1\s+2\s+2 succeeded/);

  const open = await runCli(["batches", "--state", "open"], { UN_URL: un.url });
  assert.equal(open.stdout.trim(), "no open batches", open.stderr);

  const paged = await runCli(["batches", "--limit", "1", "--json"], { UN_URL: un.url });
  assert.equal(paged.code, 0, paged.stderr);
  const page = JSON.parse(paged.stdout) as { batches: BatchView[]; nextCursor?: string };
  assert.deepEqual(page.batches.map((b) => b.id), ["new-2"]);
  const next = await runCli(["batches", "--cursor", page.nextCursor!], { UN_URL: un.url });
  assert.match(next.stdout, /^ID.*\nold-1\s/, next.stderr);
  const table = await runCli(["batches", "--limit", "1"], { UN_URL: un.url });
  assert.match(table.stdout, new RegExp(`more: un batches --cursor ${page.nextCursor}\n$`));

  for (
    const args of [
      ["batches", "--state", "running"],
      ["batches", "--limit", "0"],
      ["batches", "a", "b"],
      ["batches", "new-2", "--state", "open"],
    ]
  ) {
    const run = await runCli(args, { UN_URL: un.url });
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
  }
});

Deno.test("un batches <id> --wait: follows the batch until every task ended; exit 0 only if all succeeded", async () => {
  await using un = await startUn({
    config: { handlers: HANDLERS, http: { allow: ["127.0.0.1"] }, workers: { maxAttempts: 1 } },
  });
  const slow = Array.from({ length: 4 }, (_, i) => ({ type: "child", payload: { i, ms: 300 } }));
  const created = await api(un.url, "POST", "/un/tasks/create", {
    tasks: slow,
    batch: { id: "wait-ok" },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const waited = await runCli(["batches", "wait-ok", "--wait"], { UN_URL: un.url });
  assert.equal(waited.code, 0, waited.stderr);
  assert.match(waited.stdout, /^batch wait-ok: 4 tasks, 100% done, /);
  assert.match(waited.stdout, /succeeded\s+4/);

  // One task that fails (nothing listens on the port): the wait ends with exit 1.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closed = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const mixed = await api(un.url, "POST", "/un/tasks/create", {
    tasks: [
      { type: "child", payload: { i: 1, ms: 200 } },
      { type: "http", payload: { url: `http://127.0.0.1:${closed}/` }, maxAttempts: 1 },
    ],
    batch: { id: "wait-bad" },
  });
  assert.equal(mixed.status, 201, JSON.stringify(mixed.body));
  const failed = await runCli(["batches", "wait-bad", "--wait", "--json"], { UN_URL: un.url });
  assert.equal(failed.code, 1, failed.stderr);
  const batch = JSON.parse(failed.stdout) as BatchView;
  assert.equal(batch.done, true);
  assert.equal(batch.counts.succeeded, 1);

  const misuse = await runCli(["batches", "--wait"], { UN_URL: un.url });
  assert.equal(misuse.code, 2);
});
