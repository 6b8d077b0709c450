/**
 * 1 000 malformed requests against a real `un start`: bad JSON, wrong types,
 * oversized bodies, unknown ids, bad wildcards, unknown keys, wrong methods,
 * bodies that are not JSON,
 * requests a task's state refuses. Every one must be answered with a 4xx JSON
 * error, the process must stay up, and no stored task may change.
 */

import assert from "node:assert/strict";
import type { Task } from "../lib/tasks/task.ts";
import { api } from "./helpers/http.ts";
import { startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const LIMIT = 4_096;
const COUNT = 1_000;
const PARALLEL = 16;

interface Case {
  method: string;
  path: string;
  body?: string | Uint8Array<ArrayBuffer>;
  headers?: Record<string, string>;
}

/** Deterministic PRNG (mulberry32), so a failure replays exactly. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const POSTS = ["/un/tasks/create", "/un/events/publish", "/un/workers/scale"];
const BAD_JSON = [
  "{",
  "nul",
  '{"type":',
  "{'type':'noop'}",
  "[1,2",
  '{"type":"noop",}',
  "\u0000",
  "}{",
  "NaN",
  " ",
];
const NOT_OBJECTS = ["[]", '"noop"', "123", "null", "true", '[{"type":"noop"}]'];
const BAD_TASKS: unknown[] = [
  {},
  { type: 5 },
  { type: "" },
  { type: "has space" },
  { type: "x".repeat(201) },
  { type: "noop", priority: "9" },
  { type: "noop", priority: -1 },
  { type: "noop", priority: 10 },
  { type: "noop", priority: 4.5 },
  { type: "noop", maxAttempts: 0 },
  { type: "noop", maxAttempts: 101 },
  { type: "noop", dependsOn: "abc" },
  { type: "noop", dependsOn: [1, 2] },
  { type: "noop", dependsOn: ["no-such-task-key"] },
  { type: "noop", resources: [] },
  { type: "noop", resources: { gpu: -1 } },
  { type: "noop", runAt: "yesterday" },
  { type: "noop", runAt: "2030-01-01T10:00:00" },
  { type: "noop", deadline: -5 },
  { type: "noop", expiresAt: true },
  { type: "noop", delayMs: -1 },
  { type: "noop", delayMs: "5s" },
  { type: "noop", delayMs: 10, runAt: 5 },
  { type: "noop", timeoutMs: 1.5 },
  { type: "noop", timeoutMs: 0 },
  { type: "noop", key: "" },
  { type: "noop", queue: "a b" },
  { type: "noop", queue: 7 },
  { type: "noop", correlationId: 7 },
  { type: "noop", priorty: 5 },
  { type: "noop", payload: { a: 1 }, extra: true },
  { tasks: [] },
  { tasks: "noop" },
  { tasks: [{ type: "noop" }, { type: "noop", priority: 11 }] },
  { tasks: [{ type: "noop" }], also: 1 },
  {
    tasks: [{ type: "noop", key: "m-a", dependsOn: ["m-b"] }, {
      type: "noop",
      key: "m-b",
      dependsOn: ["m-a"],
    }],
  },
];
const BAD_EVENTS: unknown[] = [
  {},
  { type: "" },
  { type: "file.*" },
  { type: "task.**" },
  { type: "a..b" },
  { type: ".a" },
  { type: "a b" },
  { type: 42 },
  { type: "ok.type", priority: "urgent" },
  { type: "ok.type", priority: 9 },
  { type: "ok.type", subject: 5 },
  { type: "ok.type", subject: "" },
  { type: "ok.type", correlationid: {} },
  { type: "ok.type", source: "/elsewhere" },
  { type: "ok.type", id: "01ABC" },
];
const BAD_SCALES: unknown[] = [{}, { concurrency: 0 }, { concurrency: 257 }, { concurrency: "4" }, {
  concurrency: 2.5,
}, {
  concurrency: 4,
  extra: 1,
}];
const BAD_PATTERNS = [
  "",
  "file.*x",
  "a..b",
  "*x",
  "a.***",
  "a b",
  "a/b",
  "%00",
  "x".repeat(300),
  "file.",
  ".file",
];
const BAD_QUERIES = [
  "/un/tasks?state=sleeping",
  "/un/tasks?state=",
  "/un/tasks?limit=0",
  "/un/tasks?limit=-3",
  "/un/tasks?limit=abc",
  "/un/tasks?limit=1001",
  "/un/tasks?status=queued",
  "/un/tasks?queue=",
  "/un/events/history?limit=0",
  "/un/events/history?limit=9999",
  "/un/events/history?after=not-an-id",
  "/un/events/history?after=01ABC",
  "/un/events/history?bogus=1",
  "/un/events/stream?after=nope",
  "/un/events/stream?bogus=1",
];
const WRONG_METHODS: Array<[string, string]> = [
  ["PUT", "/un/tasks"],
  ["PATCH", "/un/events/publish"],
  ["DELETE", "/un/queues"],
  ["GET", "/un/stop"],
  ["POST", "/health"],
  ["DELETE", "/metrics"],
  ["GET", "/un/tasks/create"],
  ["PUT", "/un/workers/scale"],
  ["GET", "/un/workers/scale"],
  ["POST", "/un/sources"],
  ["PATCH", "/un/tasks"],
];
const BAD_IDS = [
  "01ZZZZZZZZZZZZZZZZZZZZZZZZ",
  "00000000000000000000000000",
  "..%2F..%2Fetc%2Fpasswd",
  "%00",
  "x".repeat(500),
  "%F0%9F%92%A5",
  "'%3B DROP TABLE tasks%3B --",
];

function pick<T>(rng: () => number, list: readonly T[]): T {
  return list[Math.floor(rng() * list.length)];
}

/** Builds case `i`: one of the families above, varied by the PRNG. */
function makeCase(i: number, rng: () => number, ids: { live: string; finished: string }): Case {
  const json = (value: unknown) => JSON.stringify(value);
  switch (i % 12) {
    case 0:
      return { method: "POST", path: pick(rng, POSTS), body: pick(rng, BAD_JSON) };
    case 1:
      return { method: "POST", path: pick(rng, POSTS), body: pick(rng, NOT_OBJECTS) };
    case 2:
      return { method: "POST", path: "/un/tasks/create", body: json(pick(rng, BAD_TASKS)) };
    case 3:
      return { method: "POST", path: "/un/events/publish", body: json(pick(rng, BAD_EVENTS)) };
    case 4: {
      // Oversized: above api.bodyLimitBytes, with and without a parseable shape.
      const size = LIMIT + 1 + Math.floor(rng() * 40_000);
      const body = rng() < 0.5
        ? json({ type: "noop", payload: { blob: "y".repeat(size) } })
        : "z".repeat(size);
      return { method: "POST", path: pick(rng, POSTS), body };
    }
    case 5: {
      const id = pick(rng, BAD_IDS);
      const variants: Case[] = [
        { method: "GET", path: `/un/tasks/${id}` },
        { method: "DELETE", path: `/un/tasks/${id}` },
        { method: "POST", path: `/un/tasks/${id}/retry` },
        { method: "POST", path: `/un/tasks/${id}/priority`, body: json({ priority: 3 }) },
      ];
      return pick(rng, variants);
    }
    case 6: {
      const p = encodeURIComponent(pick(rng, BAD_PATTERNS));
      return {
        method: "GET",
        path: pick(rng, [`/un/events/history?type=${p}`, `/un/events/stream?type=${p}`]),
      };
    }
    case 7:
      return { method: "GET", path: pick(rng, BAD_QUERIES) };
    case 8: {
      const [method, path] = pick(rng, WRONG_METHODS);
      return { method, path, body: method === "GET" ? undefined : json({ type: "noop" }) };
    }
    case 9:
      return { method: "POST", path: "/un/workers/scale", body: json(pick(rng, BAD_SCALES)) };
    case 10: {
      // Valid shapes that the task's state refuses, or bad values for a real task.
      const variants: Case[] = [
        { method: "POST", path: `/un/tasks/${ids.live}/retry` },
        { method: "DELETE", path: `/un/tasks/${ids.finished}` },
        { method: "POST", path: `/un/tasks/${ids.finished}/priority`, body: json({ priority: 9 }) },
        { method: "POST", path: `/un/tasks/${ids.live}/priority`, body: json({ priority: 12 }) },
        { method: "POST", path: `/un/tasks/${ids.live}/priority`, body: json({ priority: "9" }) },
        {
          method: "POST",
          path: `/un/tasks/${ids.live}/priority`,
          body: json({ priority: 1, why: "x" }),
        },
        { method: "PUT", path: `/un/tasks/${ids.live}` },
        { method: "PATCH", path: `/un/tasks/${ids.finished}`, body: json({ state: "queued" }) },
      ];
      return pick(rng, variants);
    }
    default: {
      // Bytes that are not UTF-8, unknown routes, a bad Last-Event-ID.
      const variants: Case[] = [
        {
          method: "POST",
          path: "/un/tasks/create",
          body: new Uint8Array([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
        },
        { method: "GET", path: `/un/${Math.floor(rng() * 1e6)}` },
        { method: "POST", path: "/un/tasks/create/now", body: json({ type: "noop" }) },
        { method: "GET", path: "/un/events/stream", headers: { "last-event-id": "bogus id" } },
        { method: "GET", path: "/nope/../un/tasks%2F" },
        // What a web page can send without a preflight: refused before it is read.
        {
          method: "POST",
          path: pick(rng, POSTS),
          body: json({ type: "noop" }),
          headers: { "content-type": pick(rng, ["text/plain", "multipart/form-data; boundary=x"]) },
        },
      ];
      return pick(rng, variants);
    }
  }
}

async function snapshot(url: string): Promise<Task[]> {
  const res = await api<{ tasks: Task[] }>(url, "GET", "/un/tasks?limit=1000");
  assert.equal(res.status, 200);
  return res.body.tasks;
}

Deno.test("1000 malformed requests: each answered 4xx JSON; process up; stored tasks unchanged", async () => {
  await using un = await startUn({
    config: { api: { bodyLimitBytes: LIMIT }, workers: { concurrency: 2 } },
  });

  // Tasks in several states, none of which will change on its own during the test.
  const create = async (request: Record<string, unknown>) => {
    const res = await api<{ task: Task }>(un.url, "POST", "/un/tasks/create", request);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.task;
  };
  const finished = await create({ type: "noop", payload: { n: 1 }, key: "m-finished" });
  const live = await create({ type: "noop", delayMs: 3_600_000, key: "m-live" });
  await create({ type: "noop", dependsOn: [live.id] });
  const cancelled = await create({ type: "noop", delayMs: 3_600_000 });
  assert.equal((await api(un.url, "DELETE", `/un/tasks/${cancelled.id}`)).status, 200);
  await eventually(async () => {
    const res = await api<{ task: Task }>(un.url, "GET", `/un/tasks/${finished.id}`);
    return res.body.task.state === "succeeded";
  }, { timeoutMs: 10_000, message: "the noop task to succeed" });
  const before = await snapshot(un.url);
  assert.equal(before.length, 4);

  const rng = prng(20_241_123);
  const cases = Array.from(
    { length: COUNT },
    (_, i) => makeCase(i, rng, { live: live.id, finished: finished.id }),
  );
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++];
      const res = await fetch(un.url + c.path, {
        method: c.method,
        body: c.body,
        // As a client of a JSON API sends it, so each case reaches the check it aims at.
        headers: c.body === undefined
          ? c.headers
          : { "content-type": "application/json", ...c.headers },
      });
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const type = res.headers.get("content-type") ?? "";
      let code: unknown;
      try {
        code = JSON.parse(text)?.error?.code;
      } catch {
        code = undefined;
      }
      if (
        res.status < 400 || res.status > 499 || !type.includes("application/json") ||
        typeof code !== "string"
      ) {
        const shown = typeof c.body === "string" ? c.body.slice(0, 80) : c.body ? "<bytes>" : "";
        failures.push(
          `${c.method} ${c.path.slice(0, 80)} ${shown} -> ${res.status} ${type} ${
            text.slice(0, 160)
          }`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  assert.deepEqual(failures, [], `${failures.length} requests were not answered 4xx JSON`);
  // Each family reached the check it aims at (not just the first 400 on the way).
  for (const status of [400, 404, 405, 409, 413, 415]) {
    assert.ok(
      (statuses.get(status) ?? 0) > 0,
      `no ${status} among ${JSON.stringify([...statuses])}`,
    );
  }

  const health = await api<{ status: string }>(un.url, "GET", "/health");
  assert.equal(health.status, 200);
  assert.equal(health.body.status, "ok");
  assert.deepEqual(await snapshot(un.url), before);
  assert.doesNotMatch(un.stderrText(), /request failed/);
});
