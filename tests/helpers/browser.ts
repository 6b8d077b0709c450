/**
 * A real headless Chromium (Debian's `chromium`) driven by puppeteer-core,
 * for tests of what a browser does with un: log in, open the pages, and what
 * a hostile page can and cannot do.
 */

import puppeteer, { type Browser } from "puppeteer-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** The browser binary, or null when none is installed. */
export function chromiumPath(): string | null {
  const given = Deno.env.get("UN_TEST_CHROMIUM");
  for (const path of given ? [given] : CANDIDATES) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Whether browser tests run; under CI=true a missing browser is a failure, not a skip.
 *
 * @example
 * ```ts
 * const { ignore, suffix } = browserForTests("login");
 * Deno.test({ name: `login works${suffix}`, ignore, fn() {} });
 * ```
 */
export function browserForTests(what: string): { ignore: boolean; suffix: string } {
  const installed = chromiumPath() !== null;
  if (!installed && Deno.env.get("CI") === "true") {
    Deno.test(`${what}: chromium must be installed when CI=true`, () => {
      throw new Error("chromium not found (CI=true requires it; apt-get install chromium)");
    });
  }
  return { ignore: !installed, suffix: installed ? "" : " (ignored: no chromium)" };
}

/**
 * Launches headless Chromium; close it with `await using`.
 *
 * @example
 * ```ts
 * await using browser = await launchBrowser();
 * const page = await browser.browser.newPage();
 * ```
 */
export async function launchBrowser(): Promise<{ browser: Browser } & AsyncDisposable> {
  const path = chromiumPath();
  if (path === null) throw new Error("chromium is not installed");
  const browser = await puppeteer.launch({
    executablePath: path,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  return { browser, [Symbol.asyncDispose]: () => browser.close() };
}

/**
 * Registers the browser tests of `what`: ignored without Chromium (a failure
 * under CI=true, see {@link browserForTests}), with the op and resource
 * sanitizers off, as puppeteer's connection to Chromium is not the test's own.
 *
 * @example
 * ```ts
 * const browserTest = browserTests("dashboard");
 * browserTest("dashboard: tasks appear", async () => {
 *   await using chromium = await launchBrowser();
 * });
 * ```
 */
export function browserTests(what: string): (name: string, fn: () => Promise<void>) => void {
  const { ignore, suffix } = browserForTests(what);
  return (name, fn) =>
    Deno.test({ name: name + suffix, ignore, sanitizeResources: false, sanitizeOps: false, fn });
}
