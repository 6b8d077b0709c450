/**
 * The dashboard's routes without a browser: what each page answers, a live
 * part alone for htmx, the static files, the inspector switched off, and the
 * task list's filters and cursor pages, over a store and over HTTP.
 */

import assert from "node:assert/strict";
import type { TaskFilter, TaskStore } from "../lib/store/types.ts";
import { encodeTaskCursor } from "../lib/store/cursor.ts";
import type { Task } from "../lib/tasks/task.ts";
import {
  BAD_CURSOR,
  PAGE_SIZE,
  parseTaskQuery,
  taskPage,
  type TaskQuery,
  taskQueryString,
} from "../ui/data/task-query.ts";
import { ASSETS, assetUrl } from "../ui/assets.ts";
import { createTask } from "./helpers/api.ts";
import { api } from "./helpers/http.ts";
import { createMany } from "./helpers/ui-page.ts";
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

/** A store that only lists, newest first, from a fixed set of tasks, as the real ones filter. */
function listingStore(tasks: Task[]): Pick<TaskStore, "listTasks"> & { filters: TaskFilter[] } {
  const filters: TaskFilter[] = [];
  return {
    filters,
    listTasks(filter: TaskFilter) {
      filters.push(filter);
      const { after } = filter;
      const found = tasks.filter((t) =>
        (!filter.state || t.state === filter.state) && (!filter.type || t.type === filter.type) &&
        (!filter.key || t.key === filter.key) &&
        (!after || t.createdAt < after.createdAt ||
          (t.createdAt === after.createdAt && t.id < after.id))
      );
      return Promise.resolve(found.slice(0, filter.limit ?? 100));
    },
  };
}

Deno.test("task list: filters and cursor from the query string, pages over the store's filters", async () => {
  assert.deepEqual(parseTaskQuery({ state: "failed", queue: " q ", type: "", key: "k" }), {
    query: { state: "failed", queue: "q", key: "k" },
  });
  assert.deepEqual(parseTaskQuery({ state: "nonsense", correlationId: "c" }), {
    query: { correlationId: "c" },
  });
  for (const cursor of ["!!!", "bm90IGEgY3Vyc29y", "x".repeat(300)]) {
    assert.deepEqual(parseTaskQuery({ state: "dead", cursor }), {
      query: { state: "dead" },
      problem: BAD_CURSOR,
    }, cursor);
  }
  const after = { createdAt: 1_700_000_000_000, id: "01JTASK" };
  const link = taskQueryString({ state: "failed", key: "a b" }, { after });
  assert.equal(link, `?state=failed&key=a+b&cursor=${encodeTaskCursor(after)}`);
  assert.deepEqual(parseTaskQuery(Object.fromEntries(new URLSearchParams(link))), {
    query: { state: "failed", key: "a b", after },
  });
  assert.equal(taskQueryString({}), "");
  assert.equal(taskQueryString({ type: "t", after }, { after: undefined }), "?type=t");

  // 120 tasks, two to a millisecond: the cursor orders by time, then id.
  const tasks = Array.from({ length: 120 }, (_, i) => ({
    id: `T${String(120 - i).padStart(4, "0")}`,
    createdAt: 1_000 + Math.floor((120 - i) / 2),
    type: i % 2 ? "odd" : "even",
    state: "succeeded",
    key: i === 110 ? "the-key" : null,
  })) as unknown as Task[];
  const store = listingStore(tasks);
  const seen: string[] = [];
  let query: TaskQuery = {};
  for (const expected of [PAGE_SIZE, PAGE_SIZE, 20]) {
    const page = await taskPage(store, query);
    assert.equal(page.tasks.length, expected);
    seen.push(...page.tasks.map((t) => t.id));
    if (!page.next) break;
    query = { after: page.next };
  }
  assert.deepEqual(seen, tasks.map((t) => t.id), "each task once, newest first");
  assert.deepEqual(store.filters.map((f) => f.limit), [51, 51, 51], "a page and one more");
  const keyed = await taskPage(store, { key: "the-key" });
  assert.deepEqual([keyed.tasks.map((t) => t.id), keyed.next], [["T0010"], undefined]);
  assert.equal(store.filters.at(-1)?.key, "the-key", "the key is the store's filter");
  const odd = await taskPage(store, { type: "odd" });
  assert.equal(odd.tasks.length, PAGE_SIZE);
  assert.equal((await taskPage(store, { type: "odd", after: odd.next })).tasks.length, 10);
});

/** The task ids of a list page's rows, and its next page's link (unescaped). */
function listed(html: string): { ids: string[]; next?: string } {
  const ids = [...html.matchAll(/<tr[^>]*data-task-id="([^"]+)"/g)].map((m) => m[1]);
  const next = html.match(/<a href="([^"]+)" rel="next">/)?.[1].replaceAll("&amp;", "&");
  return next ? { ids, next } : { ids };
}

Deno.test("task list over HTTP: a key finds a task older than the newest 1000, the cursor pages once through each, a bad cursor is a message", async (t) => {
  await using un = await startUn();

  await t.step("a key filter finds the first of 1005 tasks", async () => {
    const [oldest] = await createMany(un, [
      { type: "noop", key: "the-oldest" },
      ...Array.from({ length: 1_004 }, () => ({ type: "noop" })),
    ]);
    const page = await get(`${un.url}/un/ui/tasks?key=the-oldest`);
    assert.equal(page.status, 200);
    assert.deepEqual(listed(page.text), { ids: [oldest.id] });
    const live = await get(`${un.url}/un/ui/tasks?key=the-oldest`, {
      "hx-request": "true",
      "hx-target": "task-list",
    });
    assert.deepEqual(listed(live.text).ids, [oldest.id], "the live part keeps the filter");
  });

  await t.step("the next page's cursor goes through 120 tasks, 50 a page, each once", async () => {
    const created = await createMany(
      un,
      Array.from(
        { length: 120 },
        () => ({ type: "noop", correlationId: "paging" }),
      ),
    );
    const pages: string[][] = [];
    let url: string | undefined = "/un/ui/tasks?correlationId=paging";
    while (url && pages.length < 5) {
      const page = await get(`${un.url}${url}`);
      assert.equal(page.status, 200, url);
      const { ids, next } = listed(page.text);
      pages.push(ids);
      if (pages.length > 1) assert.match(page.text, /rel="first"/, "a later page links the first");
      url = next;
    }
    assert.deepEqual(pages.map((p) => p.length), [50, 50, 20]);
    assert.deepEqual(pages.flat(), created.map((t) => t.id).reverse(), "newest first, each once");
  });

  await t.step("a bad cursor is a 400 page saying so, with the way back", async () => {
    const page = await get(`${un.url}/un/ui/tasks?state=succeeded&cursor=not-a-cursor`);
    assert.equal(page.status, 400);
    assert.match(page.text, /^<!doctype html>/);
    assert.match(page.text, /cursor is not one the task list made/);
    assert.match(page.text, /href="\/un\/ui\/tasks\?state=succeeded">Start from the first page/);
  });
});

Deno.test("queues page: a paused queue shows as paused with Resume, even before its first task", async () => {
  await using un = await startUn();
  await createTask(un, { type: "noop", queue: "mail" });
  const paused = await api(un.url, "POST", "/un/queues/maintenance/pause");
  assert.equal(paused.status, 200, JSON.stringify(paused.body));
  const page = await get(`${un.url}/un/ui/queues`);
  assert.equal(page.status, 200);
  const row = (queue: string) =>
    page.text.match(new RegExp(`<tr data-queue="${queue}">([\\s\\S]*?)</tr>`))?.[1] ?? "";
  assert.match(row("maintenance"), /data-paused="true"/);
  assert.match(row("maintenance"), /<span class="badge">paused<\/span>/);
  assert.match(row("maintenance"), /data-verb="resume"/);
  assert.match(row("mail"), /data-paused="false"/);
  assert.match(row("mail"), /data-verb="pause"/);

  await api(un.url, "POST", "/un/queues/maintenance/resume");
  const after = await get(`${un.url}/un/ui/queues`);
  assert.doesNotMatch(after.text, /data-paused="true"/);
});
