/**
 * The dashboard in a real browser (headless Chromium): new tasks show up
 * live without a reload, a failed task is retried from its page, sources are
 * scanned from theirs, every page reads without console errors and without
 * sideways overflow at 1400 and 480 px (screenshots under
 * `.un/test-artifacts/ui/`), the task list's key filter and cursor pages are
 * the store's, and in token mode all of it works after logging in at
 * `/un/login`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "puppeteer-core";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import type { Task } from "../lib/tasks/task.ts";
import { browserTests, launchBrowser } from "./helpers/browser.ts";
import { api } from "./helpers/http.ts";
import {
  ARTIFACTS,
  assertNoOverflow,
  create,
  createMany,
  screenshot,
  waitForAnyText,
  waitForText,
  watchedPage,
} from "./helpers/ui-page.ts";
import { startUn, type UnProcess } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const browserTest = browserTests("dashboard");
const TOKEN = "dashboard-test-token-0123456789";
const AUTH = { authorization: `Bearer ${TOKEN}` };
/** How soon a new task must show on a live page. */
const LIVE_MS = 2_000;

/** Creates a task and waits until the open page shows a link to it. */
async function appearsLive(
  page: Page,
  un: UnProcess,
  headers: Record<string, string> = {},
): Promise<Task> {
  const task = await create(un, { type: "noop", payload: { from: "ui test" } }, headers);
  await page.waitForSelector(`a[href="/un/ui/tasks/${task.id}"]`, { timeout: LIVE_MS });
  return task;
}

async function taskEvents(un: UnProcess, id: string, headers = {}): Promise<string[]> {
  const res = await api<{ events: CloudEvent[] }>(
    un.url,
    "GET",
    "/un/events/history?type=task.**&limit=1000",
    undefined,
    headers,
  );
  return res.body.events.filter((e) => e.subject === id).map((e) => e.type);
}

browserTest(
  "dashboard: live tasks, retry from the task page, every page at 1400 and 480 px",
  async () => {
    console.log(`screenshots in ${ARTIFACTS}`);
    const inbox = await Deno.makeTempDir({ prefix: "un-ui-inbox-" });
    await Deno.writeTextFile(join(inbox, "note.txt"), "hello\n");
    await using un = await startUn({
      config: {
        workers: { concurrency: 2 },
        sources: [{ id: "inbox", kind: "fs", path: inbox }],
      },
    });
    await using chromium = await launchBrowser();
    const { page, errors } = await watchedPage(chromium.browser);

    // Live: with a task running, a new one shows on the overview and the task list within 2 s.
    await create(un, { type: "sleep", payload: { ms: 3_000 } });
    await page.goto(`${un.url}/`);
    assert.equal(new URL(page.url()).pathname, "/un/ui", "GET / leads to the dashboard");
    await waitForText(page, "#live-status", "live");
    await appearsLive(page, un);
    await page.goto(`${un.url}/un/ui/tasks`);
    await waitForText(page, "#live-status", "live");
    const listed = await appearsLive(page, un);
    assert.ok(await page.$(`tr[data-task-id="${listed.id}"]`), "the list has a row for it");

    // A task that fails for good (its file is missing), retried from its page.
    const failing = await create(un, {
      type: "file.metadata",
      payload: { path: join(inbox, "missing.txt") },
    });
    await eventually(async () => (await taskEvents(un, failing.id)).includes("task.failed"), {
      timeoutMs: 10_000,
      intervalMs: 200,
      message: "the file.metadata task to fail",
    });
    await page.goto(`${un.url}/un/ui/tasks/${failing.id}`);
    await waitForText(page, "#live-status", "live");
    await waitForText(page, "#task-detail [data-state]", "failed");
    await waitForText(page, "#task-stack", "no longer exists");
    await page.click('button[data-verb="retry"]');
    await waitForText(page, "#flash", `retry: task ${failing.id} is queued`);
    await eventually(
      async () => (await taskEvents(un, failing.id)).filter((t) => t === "task.failed").length >= 2,
      { timeoutMs: 10_000, intervalMs: 200, message: "the retried task to run (and fail) again" },
    );
    await waitForText(page, "#task-detail [data-state]", "failed");

    // Scan now, from the sources page; the scan shows in the source's history.
    await page.goto(`${un.url}/un/ui/sources`);
    await page.click('tr[data-source="inbox"] button[data-verb="scan"]');
    await waitForText(page, "#flash", "scan done");
    await page.goto(`${un.url}/un/ui/sources/inbox`);
    await waitForText(page, "table.scans", "ui");

    // The event tail shows a new task's events.
    await page.goto(`${un.url}/un/ui/events?type=task.**`);
    await waitForText(page, "#live-status", "live: task.**");
    const tailed = await create(un, { type: "noop" });
    await waitForAnyText(page, "#events tr", tailed.id, LIVE_MS);

    const pages = {
      overview: "/un/ui",
      tasks: "/un/ui/tasks?state=failed",
      task: `/un/ui/tasks/${failing.id}`,
      queues: "/un/ui/queues",
      sources: "/un/ui/sources",
      source: "/un/ui/sources/inbox",
      events: "/un/ui/events",
      processes: "/un/ui/processes",
      actors: "/un/ui/actors",
    };
    for (const width of [1400, 480]) {
      await page.setViewport({ width, height: 900 });
      for (const [name, path] of Object.entries(pages)) {
        await page.goto(`${un.url}${path}`, { waitUntil: "load" });
        await waitForText(page, "#live-status, #status", "live");
        await assertNoOverflow(page, `${name} at ${width} px`);
        console.log(await screenshot(page, `dashboard-${name}-${width}`));
      }
    }
    // prefers-color-scheme: dark gets the dark palette.
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
    await page.goto(`${un.url}/un/ui/tasks/${failing.id}`, { waitUntil: "load" });
    const background = await page.evaluate("getComputedStyle(document.body).backgroundColor");
    assert.equal(background, "rgb(21, 21, 23)");
    console.log(await screenshot(page, "dashboard-task-dark-480"));
    assert.deepEqual(errors, [], "no console errors or exceptions");
    await Deno.remove(inbox, { recursive: true });
  },
);

browserTest(
  "dashboard in token mode: log in at /un/login, see tasks appear, change one",
  async () => {
    await using un = await startUn({ config: { api: { token: TOKEN } } });
    await using chromium = await launchBrowser();
    const { page, errors } = await watchedPage(chromium.browser, 480);

    await page.goto(`${un.url}/un/ui`);
    assert.equal(
      new URL(page.url()).pathname,
      "/un/login",
      "a browser without a session logs in first",
    );
    await page.type('input[name="token"]', TOKEN);
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    assert.equal(new URL(page.url()).pathname, "/un/ui");
    await waitForText(page, "#live-status", "live");
    await appearsLive(page, un, AUTH);

    // The buttons' JSON calls carry the session cookie: re-prioritize a task that waits.
    const later = await create(un, { type: "noop", delayMs: 600_000 }, AUTH);
    await page.goto(`${un.url}/un/ui/tasks/${later.id}`);
    await page.select("#priority", "8");
    await page.click('button[data-verb="priority"]');
    await waitForText(page, "#flash", `priority: task ${later.id} is`);
    const after = await api<{ task: Task }>(
      un.url,
      "GET",
      `/un/tasks/${later.id}`,
      undefined,
      AUTH,
    );
    assert.equal(after.body.task.priority, 8);

    // The inspector too; its contexts never show the token.
    await page.goto(`${un.url}/un/ui/actors`);
    await waitForText(page, "#status", "live");
    await page.click('tr[data-actor="supervisor"]');
    await waitForText(page, "#context", "[deps]");
    const context = await page.$eval("#context", (el) => el.textContent ?? "");
    assert.ok(!context.includes(TOKEN), "the token is not in any context");
    console.log(await screenshot(page, "token-actors-480"));
    assert.deepEqual(errors, []);
  },
);

/** The ids of the task list's rows, top to bottom. */
function rowIds(page: Page): Promise<string[]> {
  return page.$$eval(
    "tr[data-task-id]",
    (rows) => rows.map((r) => r.getAttribute("data-task-id")!),
  );
}

/** Follows a link of the page and waits for the page it leads to. */
async function follow(page: Page, selector: string): Promise<void> {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

browserTest(
  "dashboard task list: a typed key finds the oldest of 1005 tasks, the next page links go through 120 once each",
  async () => {
    await using un = await startUn();
    await using chromium = await launchBrowser();
    const { page, errors } = await watchedPage(chromium.browser, 480);

    // The key filter asks the store: the first of 1005 tasks is found, not only the newest 1000.
    const [oldest] = await createMany(un, [
      { type: "noop", key: "the-oldest" },
      ...Array.from({ length: 1_004 }, () => ({ type: "noop" })),
    ]);
    await page.goto(`${un.url}/un/ui/tasks`);
    await waitForText(page, "#live-status", "live");
    await page.type('input[name="key"]', "the-oldest");
    // Leaving the field changes it, and a changed field submits the filter form.
    await Promise.all([page.waitForNavigation(), page.keyboard.press("Tab")]);
    assert.equal(new URL(page.url()).searchParams.get("key"), "the-oldest");
    assert.deepEqual(await rowIds(page), [oldest.id]);

    // 120 tasks of one correlation id, 50 a page: the next page's link carries the cursor.
    const created = await createMany(
      un,
      Array.from({ length: 120 }, () => ({ type: "noop", correlationId: "paging" })),
    );
    await page.goto(`${un.url}/un/ui/tasks?correlationId=paging`);
    await waitForText(page, "#live-status", "live");
    const pages = [await rowIds(page)];
    while (await page.$('a[rel="next"]') && pages.length < 5) {
      await follow(page, 'a[rel="next"]');
      assert.ok(new URL(page.url()).searchParams.get("cursor"), "the link carries a cursor");
      pages.push(await rowIds(page));
    }
    assert.deepEqual(pages.map((p) => p.length), [50, 50, 20]);
    assert.deepEqual(pages.flat(), created.map((t) => t.id).reverse(), "each once, newest first");
    await waitForText(page, ".pager", "last page");
    for (const width of [480, 1400]) {
      await page.setViewport({ width, height: 900 });
      await assertNoOverflow(page, `the last page at ${width} px`);
      console.log(await screenshot(page, `dashboard-tasks-last-page-${width}`));
    }

    // Back to the first page, which stays live for its filter.
    await follow(page, 'a[rel="first"]');
    assert.equal(new URL(page.url()).search, "?correlationId=paging");
    await waitForText(page, "#live-status", "live");
    assert.deepEqual(await rowIds(page), pages[0]);
    const late = await create(un, { type: "noop", correlationId: "paging" });
    await page.waitForSelector(`tr[data-task-id="${late.id}"]`, { timeout: LIVE_MS });
    assert.deepEqual(errors, [], "no console errors or exceptions");
  },
);
