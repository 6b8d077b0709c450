/**
 * `POST /un/tasks/create` refuses what cannot run, black-box against a real
 * `un start` on the embedded store: a type no handler serves and an `exec`
 * command the config lacks are 400s naming them (with the known ones and the
 * nearest); a payload the type's schema refuses (the built-ins', a handlers
 * module's `schemas`) is a 400 naming the field; a batch with one bad request
 * creates nothing. `--role api` (no worker) accepts with a `warning`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Task } from "../lib/tasks/task.ts";
import { assertError, createTask, type ErrorJson } from "./helpers/api.ts";
import { api } from "./helpers/http.ts";
import { REPO, startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const HANDLERS = join(REPO, "tests", "fixtures", "schema-handlers.ts");
/** The task types a process with those handlers runs: the built-ins and `double`. */
const KNOWN_TYPES = ["double", "exec", "file.metadata", "http", "noop", "sleep"];

function create(url: string, body: unknown) {
  return api<{ task: Task; warning?: string } & ErrorJson>(url, "POST", "/un/tasks/create", body);
}

Deno.test("create refuses unknown types, unknown exec commands and payloads that do not fit", async (t) => {
  await using un = await startUn({
    config: {
      handlers: HANDLERS,
      exec: { commands: { hello: { command: ["echo", "hello"] } } },
      workers: { maxAttempts: 3 },
      hooks: [{ on: "app.double", task: "double", payload: { m: 2 } }],
    },
  });

  await t.step("an unknown type: 400 naming it, the nearest and the known ones", async () => {
    const res = await create(un.url, { type: "dubble", payload: { n: 1 } });
    const body = assertError(res, 400, "type");
    assert.match(body.error.message, /"dubble"/);
    assert.match(body.error.message, /did you mean "double"\?/);
    assert.match(
      body.error.message,
      /known types: double, exec, file\.metadata, http, noop, sleep/,
    );
    assert.deepEqual(body.error.details.known, KNOWN_TYPES);
    const far = assertError(await create(un.url, { type: "x" }), 400, "type");
    assert.match(far.error.message, /no live worker can run task type "x"; known types: /);
  });

  await t.step("an unknown exec command: 400 naming it and the known ones", async () => {
    const res = await create(un.url, { type: "exec", payload: { command: "helo" } });
    const body = assertError(res, 400, "payload.command");
    assert.match(body.error.message, /"helo"/);
    assert.match(body.error.message, /did you mean "hello"\?/);
    assert.match(body.error.message, /known commands: hello$/);
    const ok = await createTask(un, { type: "exec", payload: { command: "hello" } });
    assert.equal(ok.type, "exec");
  });

  await t.step("built-in payloads: the field that is missing or wrong", async () => {
    const noMs = assertError(
      await create(un.url, { type: "sleep", payload: {} }),
      400,
      "payload.ms",
    );
    assert.match(noMs.error.message, /^sleep: payload\.ms is required/);
    assertError(await create(un.url, { type: "sleep", payload: { ms: "1s" } }), 400, "payload.ms");
    assertError(await create(un.url, { type: "sleep" }), 400, "payload");
    const noUrl = assertError(
      await create(un.url, { type: "http", payload: {} }),
      400,
      "payload.url",
    );
    assert.match(noUrl.error.message, /^http: payload\.url is required/);
    assertError(await create(un.url, { type: "exec", payload: {} }), 400, "payload.command");
    assertError(
      await create(un.url, { type: "file.metadata", payload: { size: 1 } }),
      400,
      "payload.path",
    );
  });

  await t.step("a handlers module's schema: a bad payload is 400, a good one runs", async () => {
    const wrong = assertError(
      await create(un.url, { type: "double", payload: { n: "two" } }),
      400,
      "payload.n",
    );
    assert.match(wrong.error.message, /^double: payload\.n must be a number, got "two"/);
    const typo = assertError(await create(un.url, { type: "double", payload: { m: 2 } }), 400);
    assert.match(typo.error.message, /`payload\.m` is not a key/);
    const task = await createTask(un, { type: "double", payload: { n: 21 } });
    const done = await eventually(async () => {
      const res = await api<{ task: Task }>(un.url, "GET", `/un/tasks/${task.id}`);
      return res.body.task.state === "succeeded" ? res.body.task : undefined;
    }, { timeoutMs: 10_000, message: "double to succeed" });
    assert.deepEqual(done.result, { doubled: 42 });
  });

  await t.step("a hook's task that does not fit the schema fails once, permanently", async () => {
    const published = await api(un.url, "POST", "/un/events/publish", { type: "app.double" });
    assert.equal(published.status, 202, JSON.stringify(published.body));
    const failed = await eventually(async () => {
      const res = await api<{ tasks: Task[] }>(un.url, "GET", "/un/tasks?type=double&limit=50");
      return res.body.tasks.find((task) => task.state === "dead" || task.state === "failed");
    }, { timeoutMs: 10_000, message: "the hook's double task to fail" });
    assert.equal(failed.attempts, 1, "a payload that does not fit is not retried");
    assert.match(String(failed.error?.message ?? failed.error), /payload\.m/);
  });

  await t.step("a batch with one bad request creates nothing", async () => {
    const before = await api<{ tasks: Task[] }>(un.url, "GET", "/un/tasks?type=noop");
    const res = await create(un.url, {
      tasks: [{ type: "noop" }, { type: "nope" }],
    });
    const body = assertError(res, 400, "tasks[1].type");
    assert.match(body.error.message, /"nope"/);
    const after = await api<{ tasks: Task[] }>(un.url, "GET", "/un/tasks?type=noop");
    assert.equal(after.body.tasks.length, before.body.tasks.length);
  });

  await t.step("the process record lists what it runs", async () => {
    const res = await api<{ processes: { types?: string[]; execCommands?: string[] }[] }>(
      un.url,
      "GET",
      "/un/processes",
    );
    assert.deepEqual(res.body.processes[0].types, KNOWN_TYPES);
    assert.deepEqual(res.body.processes[0].execCommands, ["hello"]);
  });
});

Deno.test("--role api with no worker alive: a create is accepted with a warning", async () => {
  await using un = await startUn({ args: ["--role", "api"] });
  const res = await create(un.url, { type: "noop", payload: { a: 1 } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.task.state, "queued");
  assert.match(res.body.warning ?? "", /no worker process is alive/);
  // The payload check needs no worker: the schema is this process's own.
  assertError(await create(un.url, { type: "sleep", payload: {} }), 400, "payload.ms");
});
