/**
 * The actor protocol's one `ask`: the message carries only a request id, the
 * answer comes back by that id (typed by the Replies table), and an ask ends
 * once: answered, refused, timed out or aborted, whatever comes later.
 */

import assert from "node:assert/strict";
import { answer, ask, refuse, settle } from "../lib/protocol/ask.ts";
import { UnavailableError } from "../lib/errors.ts";
import type { AskMessage, PoolInfo } from "../lib/protocol/messages.ts";

/** A receiver that keeps what it is sent, and answers nothing by itself. */
function inbox() {
  const sent: AskMessage[] = [];
  return { sent, send: (message: AskMessage) => void sent.push(message) };
}

const pool: PoolInfo = { concurrency: 2, workers: [], paused: false, resources: {} };

Deno.test("ask: the message is plain data with a replyTo, and the answer resolves the ask", async () => {
  const to = inbox();
  const asked = ask(to, "workers.info", {});
  assert.equal(to.sent.length, 1);
  const [message] = to.sent;
  assert.equal(message.type, "workers.info");
  assert.equal(typeof message.replyTo, "number");
  assert.deepEqual(JSON.parse(JSON.stringify(message)), message, "nothing but data");
  if (message.type !== "workers.info") throw new Error("unexpected message");
  answer(message.replyTo, pool);
  const info: PoolInfo = await asked; // the reply type comes from the table
  assert.deepEqual(info, pool);
  // @ts-expect-error: the answer to workers.info is a PoolInfo, and the type checker knows it
  answer(message.replyTo, { changes: 1 });
});

Deno.test("ask: each ask has its own id; a refusal rejects only its own", async () => {
  const to = inbox();
  const first = ask(to, "task.retry", { id: "a" });
  const second = ask(to, "task.retry", { id: "b" });
  const [a, b] = to.sent;
  if (a.type !== "task.retry" || b.type !== "task.retry") throw new Error("unexpected message");
  assert.notEqual(a.replyTo, b.replyTo);
  refuse(b.replyTo, new Error("no such task"));
  settle(a.replyTo, Promise.resolve({ id: "a" } as never));
  await assert.rejects(second, /no such task/);
  assert.deepEqual(await first, { id: "a" });
});

Deno.test("ask: no answer in time is UnavailableError, and a late answer is dropped", async () => {
  const to = inbox();
  const asked = ask(to, "workers.info", {}, { timeoutMs: 20 });
  await assert.rejects(asked, (error) => {
    assert.ok(error instanceof UnavailableError);
    assert.match(error.message, /no answer to workers\.info within 20ms/);
    return true;
  });
  const [message] = to.sent;
  if (message.type !== "workers.info") throw new Error("unexpected message");
  answer(message.replyTo, pool); // nobody waits any more: nothing happens
  refuse(message.replyTo, new Error("late"));
});

Deno.test("ask: an aborted signal ends the wait with its reason", async () => {
  const to = inbox();
  const stop = new AbortController();
  const asked = ask(to, "source.scan", { request: { sourceId: "s", requestedBy: "test" } }, {
    signal: stop.signal,
  });
  stop.abort(new Error("scanner stopped"));
  await assert.rejects(asked, /scanner stopped/);
  await assert.rejects(ask(to, "workers.info", {}, { signal: stop.signal }), /scanner stopped/);
});

Deno.test("ask: a message without replyTo is answered by nobody, harmlessly", () => {
  answer(undefined, pool);
  refuse(undefined, new Error("x"));
  settle(undefined, Promise.reject(new Error("not unhandled")));
});
