/**
 * Ordering against a real `un start` with one worker: priority first, aging so
 * an old low-priority task is not starved, and a stored explanation.
 */

import assert from "node:assert/strict";
import { api } from "./helpers/http.ts";
import { startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

interface Task {
  id: string;
  state: string;
  startedAt: number | null;
  explanation: { formula: string; notes: string[]; sortKey: number; priority: number };
}

async function create(url: string, body: Record<string, unknown>): Promise<Task> {
  const res = await api<{ task: Task }>(url, "POST", "/un/tasks/create", body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.task;
}

async function get(url: string, id: string): Promise<Task> {
  return (await api<{ task: Task }>(url, "GET", `/un/tasks/${id}`)).body.task;
}

Deno.test("with one worker, priority 9 runs before an earlier priority 1", async () => {
  await using un = await startUn({ config: { workers: { concurrency: 1 } } });
  const blocker = await create(un.url, { type: "sleep", payload: { ms: 300 } });
  await eventually(async () => (await get(un.url, blocker.id)).state === "running", {
    timeoutMs: 5_000,
    message: "blocker",
  });
  const low = await create(un.url, { type: "noop", priority: 1 });
  const high = await create(un.url, { type: "noop", priority: 9 });
  const [l, h] = await eventually(async () => {
    const pair = [await get(un.url, low.id), await get(un.url, high.id)];
    return pair.every((t) => t.state === "succeeded") ? pair : undefined;
  }, { timeoutMs: 5_000, message: "both tasks" });
  assert.ok(h.startedAt! <= l.startedAt!, "the priority 9 task started first");
  assert.ok(h.explanation.sortKey < l.explanation.sortKey);
});

Deno.test("under a steady stream of priority 9 tasks an old priority 1 task still runs (aging)", async () => {
  // One priority level is worth 50 ms of waiting: priority 1 catches up with
  // priority 9 after 400 ms.
  await using un = await startUn({
    config: { workers: { concurrency: 1 }, prioritizer: { priorityStepMs: 50 } },
  });
  const blocker = await create(un.url, { type: "sleep", payload: { ms: 100 } });
  await eventually(async () => (await get(un.url, blocker.id)).state === "running", {
    timeoutMs: 5_000,
    message: "blocker",
  });
  const old = await create(un.url, { type: "sleep", payload: { ms: 20 }, priority: 1 });
  const stream: Task[] = [];
  let oldDone: Task | null = null;
  const deadline = Date.now() + 4_000;
  // Keep the queue full of fresh priority 9 work, faster than one worker runs it.
  while (Date.now() < deadline && !oldDone) {
    stream.push(await create(un.url, { type: "sleep", payload: { ms: 20 }, priority: 9 }));
    stream.push(await create(un.url, { type: "sleep", payload: { ms: 20 }, priority: 9 }));
    await new Promise((r) => setTimeout(r, 20));
    const t = await get(un.url, old.id);
    if (t.state === "succeeded") oldDone = t;
  }
  assert.ok(oldDone, "the priority 1 task ran while priority 9 tasks kept coming");
  const queuedAfter = (await Promise.all(stream.map((t) => get(un.url, t.id))))
    .filter((t) => t.startedAt === null || t.startedAt > oldDone!.startedAt!);
  assert.ok(queuedAfter.length > 0, "priority 9 tasks were still waiting when it ran");
  const overtaken = (await Promise.all(stream.map((t) => get(un.url, t.id))))
    .filter((t) => t.startedAt !== null && t.startedAt < oldDone!.startedAt!);
  assert.ok(overtaken.length > 0, "newer priority 9 tasks did go first for a while");

  const explained = await get(un.url, old.id);
  assert.equal(explained.explanation.priority, 1);
  assert.match(explained.explanation.formula, /sortKey = enqueuedAt - priority\*priorityStepMs/);
  assert.ok(explained.explanation.notes.some((n) => n.includes("priority 1 counts as 50ms")));
});
