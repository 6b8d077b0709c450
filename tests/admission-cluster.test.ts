/**
 * What a Redis cluster can run, as `POST /un/tasks/create` sees it: each
 * process records its task types and exec commands, and any process's API
 * accepts a type or command that some live worker has, even when it has no
 * handler for it itself, and refuses one that none has. With no worker alive
 * a create is accepted with a `warning`; a live worker of an older version
 * (a record without types) means nothing can be refused.
 *
 * Needs `redis-server` (a private one, from `startRedis()`); without it the
 * test is ignored, except under `CI=true` where it fails.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Redis } from "ioredis";
import type { ProcessRecord } from "../lib/store/types.ts";
import type { Task } from "../lib/tasks/task.ts";
import { assertError, type ErrorJson } from "./helpers/api.ts";
import { api } from "./helpers/http.ts";
import { redisServerForTests, startRedis } from "./helpers/redis-server.ts";
import { REPO, startUn, type UnProcess } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const { ignore, suffix } = redisServerForTests("admission cluster");

const HANDLERS = join(REPO, "tests", "fixtures", "schema-handlers.ts");
const HEARTBEAT_MS = 200;

function create(un: UnProcess, body: unknown) {
  return api<{ task: Task; warning?: string } & ErrorJson>(
    un.url,
    "POST",
    "/un/tasks/create",
    body,
  );
}

async function succeeded(un: UnProcess, id: string): Promise<Task> {
  return await eventually(async () => {
    const res = await api<{ task: Task }>(un.url, "GET", `/un/tasks/${id}`);
    return res.body.task.state === "succeeded" ? res.body.task : undefined;
  }, { timeoutMs: 15_000, message: `task ${id} to succeed` });
}

Deno.test({
  name: `cluster: a type or command only one worker has is accepted through any API${suffix}`,
  ignore,
  async fn() {
    await using redis = await startRedis();
    const base = { redis: { url: redis.url }, scheduler: { heartbeatMs: HEARTBEAT_MS } };
    await using front = await startUn({ config: base, args: ["--role", "api"] });

    // No worker alive: accepted, and the answer says it waits.
    const early = await create(front, { type: "double", payload: { n: 1 } });
    assert.equal(early.status, 201, JSON.stringify(early.body));
    assert.match(early.body.warning ?? "", /no worker process is alive/);

    // A worker with the handlers module and a command of its own; another
    // (role all, its own API) with neither, taking only its own queue.
    await using _worker = await startUn({
      config: {
        ...base,
        handlers: HANDLERS,
        exec: { commands: { hello: { command: ["echo", "hello"] } } },
      },
      args: ["--role", "worker"],
    });
    await using plain = await startUn({ config: { ...base, workers: { queues: ["plain"] } } });
    await eventually(async () => {
      const res = await api<{ processes: ProcessRecord[] }>(front.url, "GET", "/un/processes");
      return res.body.processes.filter((p) => p.concurrency > 0).length === 2;
    }, { timeoutMs: 10_000, message: "both workers recorded" });

    // Through the api process and through the process without the handler.
    for (const via of [front, plain]) {
      const res = await create(via, { type: "double", payload: { n: 21 } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.warning, undefined, "a worker is alive");
      assert.deepEqual((await succeeded(front, res.body.task.id)).result, { doubled: 42 });

      const exec = await create(via, { type: "exec", payload: { command: "hello" } });
      assert.equal(exec.status, 201, JSON.stringify(exec.body));
      const ran = (await succeeded(front, exec.body.task.id)).result as { stdout?: string };
      assert.equal(ran.stdout, "hello\n");

      const unknown = assertError(await create(via, { type: "tripple" }), 400, "type");
      assert.match(unknown.error.message, /"tripple"/);
      assert.match(unknown.error.message, /known types: double, exec, /);
      const command = assertError(
        await create(via, { type: "exec", payload: { command: "bye" } }),
        400,
        "payload.command",
      );
      assert.match(command.error.message, /"bye".*known commands: hello/);
    }

    // The early task (made while no worker lived) ran once the worker came.
    await succeeded(front, early.body.task.id);

    // A live worker of an older version records no types: nothing can be refused.
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      const now = Date.now();
      await client.hset(
        "un:procs",
        "old:1:OLD",
        JSON.stringify({
          id: "old:1:OLD",
          role: "worker",
          host: "old",
          pid: 1,
          startedAt: now,
          seenAt: now,
          concurrency: 4,
          busy: 0,
          paused: false,
          until: now + 60_000,
        }),
      );
      const res = await create(front, { type: "tripple", queue: "nobody" });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.warning, undefined);
    } finally {
      client.disconnect();
    }
  },
});
