/**
 * The dashboard's routes without a browser: what each page answers, a live
 * part alone for htmx, the static files, the inspector switched off, and the
 * task list's filters and pages over a store.
 */

import assert from "node:assert/strict";
import type { Store, TaskFilter } from "../lib/store/types.ts";
import type { Task } from "../lib/tasks/task.ts";
import {
  MAX_ROWS,
  PAGE_SIZE,
  parseTaskQuery,
  taskPage,
  taskQueryString,
} from "../ui/data/task-query.ts";
import { ASSETS, assetUrl } from "../ui/assets.ts";
import { createTask } from "./helpers/api.ts";
import { startUn } from "./helpers/un-process.ts";

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers, redirect: "manual" });
  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "",
    location: res.headers.get("location"),
    text: await res.text(),
  };
}

Deno.test("dashboard routes: pages, live parts, assets, and / leading to /un/ui", async (t) => {
  await using un = await startUn({ config: { api: { inspect: false } } });
  const task = await createTask(un, { type: "noop", payload: { hello: "world" } });

  await t.step("every page is HTML in the shared frame", async () => {
    for (
      const path of [
        "/un/ui",
        "/un/ui/tasks",
        `/un/ui/tasks/${task.id}`,
        "/un/ui/queues",
        "/un/ui/sources",
        "/un/ui/events",
        "/un/ui/processes",
      ]
    ) {
      const res = await get(`${un.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.type, /text\/html/, path);
      assert.match(res.text, /^<!doctype html>/, path);
      assert.match(res.text, /<nav>/, path);
      // Nothing from outside: every script is un's own.
      for (const [, src] of res.text.matchAll(/<script[^>]+src="([^"]+)"/g)) {
        assert.ok(src.startsWith("/un/ui/assets/"), `${path}: ${src}`);
      }
    }
    const root = await get(`${un.url}/`);
    assert.equal(root.status, 302);
    assert.equal(root.location, "/un/ui");
  });

  await t.step("a task's page shows its payload; an unknown task is a 404 page", async () => {
    const page = await get(`${un.url}/un/ui/tasks/${task.id}`);
    assert.match(page.text, /&quot;hello&quot;: &quot;world&quot;|"hello": "world"/);
    const missing = await get(`${un.url}/un/ui/tasks/01NOSUCHTASK`);
    assert.equal(missing.status, 404);
    assert.match(missing.text, /No task 01NOSUCHTASK/);
  });

  await t.step("htmx asking for a live part gets that part alone", async () => {
    const part = await get(`${un.url}/un/ui`, { "hx-request": "true", "hx-target": "ov-tasks" });
    assert.equal(part.status, 200);
    assert.doesNotMatch(part.text, /<html|<nav>/);
    assert.match(part.text, new RegExp(task.id));
    const list = await get(`${un.url}/un/ui/tasks?type=noop`, {
      "hx-request": "true",
      "hx-target": "task-list",
    });
    assert.match(list.text, new RegExp(`data-task-id="${task.id}"`));
  });

  await t.step(
    "static files carry their type, and a hashed URL may be cached for good",
    async () => {
      for (const [name, asset] of ASSETS) {
        const res = await fetch(`${un.url}${assetUrl(name)}`);
        assert.equal(res.status, 200, name);
        assert.equal(res.headers.get("content-type"), asset.type);
        assert.match(res.headers.get("cache-control") ?? "", /immutable/);
        assert.equal(await res.text(), asset.body);
      }
      assert.equal((await get(`${un.url}/un/ui/assets/nope.js`)).status, 404);
      const icon = await fetch(`${un.url}/favicon.ico`);
      await icon.body?.cancel();
      assert.equal(icon.status, 200);
    },
  );

  await t.step("with api.inspect off there is no inspector, and no link to it", async () => {
    assert.equal((await get(`${un.url}/un/ui/actors`)).status, 404);
    assert.equal((await get(`${un.url}/un/inspect`)).status, 404);
    assert.doesNotMatch((await get(`${un.url}/un/ui`)).text, /\/un\/ui\/actors/);
  });
});

/** A store that only lists, newest first, from a fixed set of tasks. */
function listingStore(tasks: Task[]): Store & { limits: number[] } {
  const limits: number[] = [];
  const store = {
    limits,
    listTasks(filter: TaskFilter) {
      limits.push(filter.limit ?? 100);
      const found = tasks.filter((t) =>
        (!filter.state || t.state === filter.state) && (!filter.type || t.type === filter.type)
      );
      return Promise.resolve(found.slice(0, filter.limit ?? 100));
    },
  };
  return store as unknown as Store & { limits: number[] };
}

Deno.test("task list: filters from the query string, pages over listTasks, key among the newest", async () => {
  assert.deepEqual(parseTaskQuery({ state: "failed", page: "2", queue: " q ", type: "" }), {
    state: "failed",
    queue: "q",
    page: 2,
  });
  assert.deepEqual(parseTaskQuery({ state: "nonsense", page: "-3" }), { page: 1 });
  assert.equal(parseTaskQuery({ page: "9999" }).page, MAX_ROWS / PAGE_SIZE);
  assert.equal(
    taskQueryString({ state: "failed", key: "a b", page: 1 }, { page: 3 }),
    "?state=failed&key=a+b&page=3",
  );
  assert.equal(taskQueryString({ page: 1 }), "");

  const tasks = Array.from({ length: 120 }, (_, i) => ({
    id: `T${String(120 - i).padStart(4, "0")}`,
    type: i % 2 ? "odd" : "even",
    state: "succeeded",
    key: i === 70 ? "the-key" : null,
  })) as unknown as Task[];
  const store = listingStore(tasks);
  const first = await taskPage(store, { page: 1 });
  assert.deepEqual([first.tasks.length, first.tasks[0].id, first.hasMore], [
    PAGE_SIZE,
    "T0120",
    true,
  ]);
  const third = await taskPage(store, { page: 3 });
  assert.deepEqual([third.tasks.length, third.tasks[0].id, third.hasMore], [20, "T0020", false]);
  assert.deepEqual(store.limits, [PAGE_SIZE + 1, 3 * PAGE_SIZE + 1]);
  const keyed = await taskPage(store, { key: "the-key", page: 1 });
  assert.deepEqual(keyed.tasks.map((t) => t.id), ["T0050"]);
  const odd = await taskPage(store, { type: "odd", page: 2 });
  assert.equal(odd.tasks.length, 10);
});
