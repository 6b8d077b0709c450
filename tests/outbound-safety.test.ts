/**
 * Outbound requests under the operator's control, black-box: a real `un
 * start` and real receivers on loopback. `http` tasks reach only what
 * `http.allow` covers (checked at create and again at run time, redirects
 * included), carry `X-Un-Signature` only to `http.signTo` hosts, and a
 * receiver's `verifySignature` refuses replays and changed requests.
 */

import assert from "node:assert/strict";
import { verifySignature } from "../mod.ts";
import { api } from "./helpers/http.ts";
import { startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

type Task = { id: string; state: string; attempts: number; error: Record<string, unknown> | null };
type ErrorBody = { error: { code: string; message: string; details: Record<string, unknown> } };

interface Delivery {
  method: string;
  url: string;
  body: string;
  signature: string | null;
}

/** A receiver on a loopback address: records deliveries; `/to?url=` redirects there. */
function receiver(hostname: string) {
  const deliveries: Delivery[] = [];
  const server = Deno.serve({ hostname, port: 0, onListen: () => {} }, async (request) => {
    const url = new URL(request.url);
    const body = await request.text();
    const signature = request.headers.get("x-un-signature");
    deliveries.push({ method: request.method, url: request.url, body, signature });
    const location = url.searchParams.get("url");
    if (url.pathname === "/to" && location) {
      return new Response(null, { status: 302, headers: { location } });
    }
    return new Response("ok");
  });
  return { deliveries, server, base: `http://${hostname}:${server.addr.port}` };
}

async function finished(url: string, id: string): Promise<Task> {
  return await eventually(async () => {
    const { body } = await api<{ task: Task }>(url, "GET", `/un/tasks/${id}`);
    return ["succeeded", "dead", "failed"].includes(body.task.state) ? body.task : undefined;
  }, { timeoutMs: 10_000, message: `task ${id} to finish` });
}

Deno.test("http tasks: loopback is refused at create by default (400 naming field, host and http.allow)", async () => {
  const target = receiver("127.0.0.1");
  try {
    // A schedule's tasks never pass the API: the handler checks again when it runs.
    await using un = await startUn({
      config: {
        scheduler: {
          schedules: [{
            id: "ping",
            every: "1s",
            task: "http",
            payload: { url: `${target.base}/cron` },
          }],
        },
      },
    });
    const res = await api<ErrorBody>(un.url, "POST", "/un/tasks/create", {
      type: "http",
      payload: { url: `${target.base}/hook`, body: { a: 1 } },
    });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(
      res.body.error.message,
      'payload.url: host 127.0.0.1 is not allowed by http.allow (["public"]); ' +
        "add it to http.allow to let un reach it",
    );
    assert.equal(res.body.error.details.field, "payload.url");
    assert.equal(res.body.error.details.host, "127.0.0.1");
    // Cloud metadata, private ranges and names that are loopback are refused too.
    for (
      const url of ["http://169.254.169.254/latest/", "http://10.0.0.1/", "http://localhost:1/"]
    ) {
      const other = await api<ErrorBody>(un.url, "POST", "/un/tasks/create", {
        type: "http",
        payload: { url },
      });
      assert.equal(other.status, 400, `${url}: ${JSON.stringify(other.body)}`);
    }
    const scheduled = await eventually(async () => {
      const { body } = await api<{ tasks: Task[] }>(un.url, "GET", "/un/tasks?type=http");
      return body.tasks.find((t) => t.state === "failed");
    }, { timeoutMs: 10_000, message: "the scheduled http task to fail" });
    assert.equal(scheduled.attempts, 1, "a refused host is not retried");
    assert.match(
      String(scheduled.error?.message),
      /host 127\.0\.0\.1 is not allowed by http\.allow/,
    );
    assert.equal(target.deliveries.length, 0, "nothing was sent");
  } finally {
    await target.server.shutdown();
  }
});

Deno.test("http tasks: allowed hosts are delivered; only signTo hosts get X-Un-Signature, which refuses replays", async () => {
  const signed = receiver("127.0.0.1");
  const plain = receiver("127.0.0.2");
  const secret = "outbound-test-secret";
  try {
    await using un = await startUn({
      config: {
        http: { allow: ["127.0.0.1", "127.0.0.2"], signingSecret: secret, signTo: ["127.0.0.1"] },
      },
    });
    const send = async (url: string) => {
      const res = await api<{ task: Task }>(un.url, "POST", "/un/tasks/create", {
        type: "http",
        payload: { url, body: { event: "deploy", ref: "main" } },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const task = await finished(un.url, res.body.task.id);
      assert.equal(task.state, "succeeded", JSON.stringify(task.error));
    };
    await send(`${signed.base}/hook?team=a`);
    await send(`${plain.base}/hook`);

    assert.equal(plain.deliveries.length, 1);
    assert.equal(plain.deliveries[0].signature, null, "127.0.0.2 is not in http.signTo");

    const [got] = signed.deliveries;
    assert.match(got.signature ?? "", /^t=\d+,v1=[0-9a-f]{64}$/);
    const request = { method: got.method, url: got.url, body: got.body };
    const fresh = verifySignature(secret, got.signature, request);
    assert.ok(fresh.ok, JSON.stringify(fresh));
    const replay = verifySignature(secret, got.signature, request, {
      now: Date.now() + 6 * 60_000,
    });
    assert.equal(replay.ok ? "accepted" : replay.reason, "stale", "a replay 6 minutes later");
    const otherUrl = verifySignature(secret, got.signature, {
      ...request,
      url: `${signed.base}/hook?team=b`,
    });
    assert.equal(otherUrl.ok ? "accepted" : otherUrl.reason, "mismatch", "another URL");
    const otherBody = verifySignature(secret, got.signature, {
      ...request,
      body: got.body.replace("main", "evil"),
    });
    assert.equal(otherBody.ok ? "accepted" : otherBody.reason, "mismatch", "another body");
    const wrongKey = verifySignature("another-secret", got.signature, request);
    assert.equal(wrongKey.ok ? "accepted" : wrongKey.reason, "mismatch", "another secret");
  } finally {
    await signed.server.shutdown();
    await plain.server.shutdown();
  }
});

Deno.test("http tasks: a redirect to a host http.allow does not cover fails the task for good", async () => {
  const allowed = receiver("127.0.0.1");
  const internal = receiver("127.0.0.2");
  try {
    // 127.0.0.1/32 stands for a public host; 127.0.0.2 (also loopback) for an internal one.
    await using un = await startUn({ config: { http: { allow: ["127.0.0.1/32"] } } });
    const to = encodeURIComponent(`${internal.base}/admin`);
    const res = await api<{ task: Task }>(un.url, "POST", "/un/tasks/create", {
      type: "http",
      payload: { url: `${allowed.base}/to?url=${to}` },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const task = await finished(un.url, res.body.task.id);
    assert.equal(task.state, "failed", "failed for good (dead is for retries used up)");
    assert.equal(task.attempts, 1, "a refused host is not retried");
    assert.equal(task.error?.permanent, true);
    assert.match(String(task.error?.message), /host 127\.0\.0\.2 is not allowed by http\.allow/);
    assert.equal(allowed.deliveries.length, 1);
    assert.equal(internal.deliveries.length, 0, "the redirect was not followed");
  } finally {
    await allowed.server.shutdown();
    await internal.server.shutdown();
  }
});
