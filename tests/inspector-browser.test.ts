/**
 * The actor inspector in a real browser (headless Chromium): it lists every
 * worker under the pool, a worker's state changes on its row and on its
 * chart when it starts a task, pause holds messages back without losing any,
 * the filter applies to the rows already shown, and idle workers add at most
 * one line each however long they idle.
 */

import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { browserTests, launchBrowser } from "./helpers/browser.ts";
import { api } from "./helpers/http.ts";
import { create, screenshot, waitForAnyText, waitForText, watchedPage } from "./helpers/ui-page.ts";
import { startUn } from "./helpers/un-process.ts";

const browserTest = browserTests("inspector");
const WORKERS = 4;

/** Runs an expression in the page (a string: the test's types have no DOM). */
function inPage<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}

const messageTexts = (page: Page) =>
  inPage<string[]>(
    page,
    `[...document.querySelectorAll("#messages tr")].map((tr) => tr.textContent)`,
  );
const idleLines = (page: Page) =>
  inPage<number>(page, `document.querySelectorAll("#messages tr.idle").length`);

/**
 * Clicks the element a selector names, found and clicked in one step in the
 * page: the live table re-renders its rows, and a handle found first can be
 * detached by the time it is clicked.
 */
function clickNow(page: Page, selector: string): Promise<void> {
  return page.$eval(selector, (el) => (el as unknown as { click(): void }).click());
}

browserTest(
  "inspector: every worker, its state on its chart, pause and filter keep every row, idle folds",
  async () => {
    await using un = await startUn({ config: { workers: { concurrency: WORKERS } } });
    await using chromium = await launchBrowser();
    const { page, errors } = await watchedPage(chromium.browser);

    await page.goto(`${un.url}/un/inspect`);
    assert.equal(new URL(page.url()).pathname, "/un/ui/actors", "the old address leads here");
    await waitForText(page, "#status", "live");
    for (let i = 1; i <= WORKERS; i++) {
      await page.waitForSelector(`tr[data-actor="worker-${i}"][data-parent="pool"]`);
    }

    // A worker starts a task: its row and its chart say "running", then no longer.
    const task = await create(un, { type: "sleep", payload: { ms: 2_000 } });
    await page.waitForSelector('tr.actor[data-state="running"]', { timeout: 2_000 });
    const worker = await inPage<string>(
      page,
      `document.querySelector('tr.actor[data-state="running"]').dataset.actor`,
    );
    assert.match(worker, /^worker-\d$/);
    await page.waitForSelector(
      `tr[data-actor="${worker}"] .pill.active[data-state-pill="running"]`,
    );
    await clickNow(page, `tr[data-actor="${worker}"]`);
    await page.waitForSelector('#chart [data-chart-state="running"].active', { timeout: 2_000 });
    await waitForText(page, "#context", task.id);
    console.log(await screenshot(page, "inspector-running-1400"));
    await page.waitForSelector(`tr[data-actor="${worker}"]:not([data-state="running"])`, {
      timeout: 5_000,
    });
    await page.waitForSelector('#chart [data-chart-state="running"]:not(.active)');

    // Pause: new messages are held, not drawn and not lost; resume shows every one.
    await clickNow(page, "#pause");
    for (let i = 1; i <= 10; i++) {
      const res = await api(un.url, "POST", "/un/events/publish", { type: `ui.paused.n${i}` });
      assert.equal(res.status, 202);
    }
    await waitForText(page, "#msg-count", "new held");
    assert.ok(
      !(await messageTexts(page)).some((t) => t.includes("ui.paused")),
      "paused: not drawn",
    );
    await clickNow(page, "#pause");
    for (let i = 1; i <= 10; i++) await waitForAnyText(page, "#messages tr", `ui.paused.n${i}`);

    // The filter applies to the rows already there, and clearing it brings the rest back.
    const all = (await messageTexts(page)).length;
    await page.type("#filter", "ui.paused");
    const filtered = await messageTexts(page);
    assert.equal(filtered.length, 10, filtered.join("\n"));
    assert.ok(filtered.every((t) => t.includes("ui.paused")));
    for (let i = 0; i < "ui.paused".length; i++) await page.keyboard.press("Backspace");
    assert.ok((await messageTexts(page)).length >= all);

    // Idle workers poll about once a second: 6 s of it add at most one line per worker.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const before = await idleLines(page);
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const added = (await idleLines(page)) - before;
    console.log(`idle lines added in 6 s: ${added}`);
    assert.ok(added <= WORKERS, `6 s of idling added ${added} lines`);
    await waitForAnyText(page, "#messages tr.idle", "idle ×");

    console.log(await screenshot(page, "inspector-1400"));
    await page.setViewport({ width: 480, height: 900 });
    await clickNow(page, 'tr[data-actor="pool"]');
    await waitForText(page, "#detail-title", "pool");
    console.log(await screenshot(page, "inspector-480"));
    assert.deepEqual(errors, [], "no console errors or exceptions");
  },
);
