/**
 * Logs for machines and people, against a real `un start` with
 * `log.format: json`: a task's failure line carries `task`, `type`, `queue`
 * and `correlationid`; every answer carries `X-Request-Id` (the client's own
 * when sane, else a generated ULID) and each request is logged with it, its
 * method, path, status and duration, and never its body or Authorization.
 */

import assert from "node:assert/strict";
import { api } from "./helpers/http.ts";
import { startUn, type UnProcess } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Every JSON line of the process's log so far. */
function jsonLines(un: UnProcess): Array<Record<string, unknown>> {
  return un.stderrText().split("\n").filter((line) => line.startsWith("{")).map((line) =>
    JSON.parse(line)
  );
}

Deno.test("logs: task fields on a failure, request ids echoed and logged", async (t) => {
  const token = "metrics-log-token-0123456789";
  await using un = await startUn({
    config: {
      api: { token },
      log: { format: "json", level: "debug" },
      hooks: [{
        on: "app.slow",
        task: "sleep",
        queue: "hooked",
        payload: { ms: 5_000 },
        timeoutMs: 50,
        maxAttempts: 1,
      }],
    },
  });
  const auth = { authorization: `Bearer ${token}` };

  await t.step("a dead task's line carries task, type, queue and correlationid", async () => {
    const published = await api<{ event: { id: string } }>(un.url, "POST", "/un/events/publish", {
      type: "app.slow",
      correlationid: "order-42",
      data: { secret: "not-in-logs" },
    }, auth);
    assert.equal(published.status, 202, JSON.stringify(published.body));
    const line = await eventually(() => jsonLines(un).find((l) => l.message === "task dead"), {
      timeoutMs: 15_000,
      message: "the task dead line",
    });
    assert.equal(line.level, "warn");
    assert.match(String(line.task), ULID);
    assert.equal(line.type, "sleep");
    assert.equal(line.queue, "hooked");
    assert.equal(line.correlationid, "order-42");
    assert.match(String(line.error), /timed out/);
  });

  await t.step("a client's X-Request-Id is echoed and logged with the request", async () => {
    const res = await fetch(`${un.url}/un/tasks?limit=1`, {
      headers: { ...auth, "X-Request-Id": "abc123" },
    });
    await res.body?.cancel();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-request-id"), "abc123");
    const line = await eventually(() => jsonLines(un).find((l) => l.requestId === "abc123"), {
      timeoutMs: 5_000,
      message: "the request's log line",
    });
    assert.equal(line.level, "debug");
    assert.equal(line.method, "GET");
    assert.equal(line.path, "/un/tasks");
    assert.equal(line.status, 200);
    assert.equal(typeof line.durationMs, "number");
  });

  await t.step("without one (or with an insane one) a ULID is generated", async () => {
    for (const given of [undefined, "has spaces", "x".repeat(129), 'quote"d']) {
      const headers: Record<string, string> = { ...auth };
      if (given !== undefined) headers["X-Request-Id"] = given;
      const res = await fetch(`${un.url}/health`, { headers });
      await res.body?.cancel();
      const id = res.headers.get("x-request-id") ?? "";
      assert.match(id, ULID, `for ${JSON.stringify(given)}`);
    }
  });

  await t.step("refusals carry an id too; bodies and the token are never logged", async () => {
    const refused = await fetch(`${un.url}/un/tasks`, {
      headers: { authorization: "Bearer wrong-token-0123456789", "X-Request-Id": "refused-1" },
    });
    await refused.body?.cancel();
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get("x-request-id"), "refused-1");
    await eventually(
      () => jsonLines(un).some((l) => l.requestId === "refused-1" && l.status === 401),
      { timeoutMs: 5_000, message: "the refused request's line" },
    );
    const log = un.stderrText();
    assert.ok(!log.includes(token), "the token is not logged");
    assert.ok(!log.includes("wrong-token"), "a wrong token is not logged either");
    assert.ok(!log.includes("not-in-logs"), "request bodies are not logged");
  });
});
