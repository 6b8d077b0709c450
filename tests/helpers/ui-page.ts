/**
 * What the dashboard's browser tests share: a page that records console
 * errors and uncaught exceptions, screenshots saved as test artefacts under
 * `.un/test-artifacts/ui/` (ignored by git), the check that a page does not
 * overflow sideways, and creating tasks over the API, one or many.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Browser, Page } from "puppeteer-core";
import type { Task } from "../../lib/tasks/task.ts";
import { api } from "./http.ts";
import { REPO, type UnProcess } from "./un-process.ts";

/**
 * Where screenshots go.
 *
 * @example
 * ```ts
 * console.log(`screenshots in ${ARTIFACTS}`);
 * ```
 */
export const ARTIFACTS = join(REPO, ".un", "test-artifacts", "ui");

/** A page and the errors it reported. */
export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught exceptions, in order. */
  errors: string[];
}

/**
 * Opens a page that records its console errors and exceptions.
 *
 * @example
 * ```ts
 * const { page, errors } = await watchedPage(chromium.browser);
 * ```
 */
export async function watchedPage(browser: Browser, width = 1400): Promise<WatchedPage> {
  const page = await browser.newPage();
  await page.setViewport({ width, height: 900 });
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`${page.url()}: ${message.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`${page.url()}: ${err}`));
  return { page, errors };
}

/**
 * Saves a full-page screenshot; returns its path.
 *
 * @example
 * ```ts
 * await screenshot(page, "overview-1400");
 * ```
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`) as `${string}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Asserts the page is no wider than the window (nothing sticks out sideways).
 *
 * @example
 * ```ts
 * await assertNoOverflow(page, "overview at 480 px");
 * ```
 */
export async function assertNoOverflow(page: Page, what: string): Promise<void> {
  // Strings, not functions: they run in the page, whose DOM types the test's check does not have.
  const overflow = await page.evaluate(
    "document.documentElement.scrollWidth - document.documentElement.clientWidth",
  ) as number;
  assert.ok(overflow <= 0, `${what} overflows sideways by ${overflow}px`);
}

/**
 * Waits until an element's text contains `text`.
 *
 * @example
 * ```ts
 * await waitForText(page, "#live-status", "live");
 * ```
 */
export async function waitForText(
  page: Page,
  selector: string,
  text: string,
  timeout = 10_000,
): Promise<void> {
  await page.waitForFunction(
    `document.querySelector(${JSON.stringify(selector)})?.textContent?.includes(${
      JSON.stringify(text)
    })`,
    { timeout },
  );
}

/**
 * Waits until some element matching `selector` has `text` in it.
 *
 * @example
 * ```ts
 * await waitForAnyText(page, "#events tr", task.id);
 * ```
 */
export async function waitForAnyText(
  page: Page,
  selector: string,
  text: string,
  timeout = 10_000,
): Promise<void> {
  await page.waitForFunction(
    `[...document.querySelectorAll(${
      JSON.stringify(selector)
    })].some((el) => el.textContent.includes(${JSON.stringify(text)}))`,
    { timeout },
  );
}

/**
 * Creates a task over the API (with the given headers, e.g. a bearer token).
 *
 * @example
 * ```ts
 * const task = await create(un, { type: "noop" });
 * ```
 */
export async function create(
  un: UnProcess,
  request: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Task> {
  const res = await api<{ task: Task }>(un.url, "POST", "/un/tasks/create", request, headers);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.task;
}

/**
 * Creates tasks over the API in atomic batches of up to 1 000, in order; returns them.
 *
 * @example
 * ```ts
 * const tasks = await createMany(un, Array.from({ length: 120 }, () => ({ type: "noop" })));
 * ```
 */
export async function createMany(
  un: UnProcess,
  requests: Record<string, unknown>[],
  headers: Record<string, string> = {},
): Promise<Task[]> {
  const created: Task[] = [];
  for (let start = 0; start < requests.length; start += 1_000) {
    const batch = { tasks: requests.slice(start, start + 1_000) };
    const res = await api<{ tasks: Task[] }>(
      un.url,
      "POST",
      "/un/tasks/create",
      batch,
      headers,
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
    created.push(...res.body.tasks);
  }
  return created;
}
