/**
 * What a real browser (headless Chromium) can do with un: the operator logs
 * in with the token and watches the inspector and a wildcard event stream
 * live; a page from another origin, even with the operator's session cookie
 * in the same browser, cannot change anything.
 */

import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import type { Task } from "../lib/tasks/task.ts";
import { browserTests, launchBrowser } from "./helpers/browser.ts";
import { api } from "./helpers/http.ts";
import { startUn, type UnProcess } from "./helpers/un-process.ts";

const TOKEN = "browser-test-token-0123456789";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const browserTest = browserTests("browser");

async function logIn(page: Page, un: UnProcess): Promise<void> {
  await page.goto(`${un.url}/un/login?next=/un/inspect`);
  await page.type('input[name="token"]', TOKEN);
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  // The old address of the inspector leads to its page on the dashboard.
  assert.equal(new URL(page.url()).pathname, "/un/ui/actors");
}

/** A page on another loopback port (another origin) that attacks un as a hostile site would. */
function attackPage(target: string): string {
  return `<!doctype html><html><body>
<iframe name="sink"></iframe>
<script>
const target = ${JSON.stringify(target)};
const results = [];
async function run() {
  const simple = [
    ["/un/tasks/create", '{"type":"noop"}'],
    ["/un/events/publish", '{"type":"app.attack"}'],
    ["/un/workers/scale", '{"concurrency":200}'],
    ["/un/stop", "x"],
  ];
  for (const [path, body] of simple) {
    for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
      try {
        await fetch(target + path, { method: "POST", mode: "no-cors", credentials: "include",
          headers: { "content-type": type }, body });
        results.push("sent " + path);
      } catch (e) { results.push("failed " + path); }
    }
  }
  try {
    const res = await fetch(target + "/un/tasks", { credentials: "include" });
    results.push("READ " + (await res.text()).slice(0, 40));
  } catch (e) { results.push("read refused"); }
  try {
    await fetch(target + "/un/tasks/create", { method: "POST", credentials: "include",
      headers: { "content-type": "application/json" }, body: '{"type":"noop"}' });
    results.push("JSON SENT");
  } catch (e) { results.push("json refused"); }
  // The classic JSON-in-a-form trick: enctype text/plain makes the body {"concurrency":200,"x":"="}.
  const form = document.createElement("form");
  form.method = "POST"; form.action = target + "/un/workers/scale";
  form.enctype = "text/plain"; form.target = "sink";
  const input = document.createElement("input");
  input.name = '{"concurrency":200,"x":"'; input.value = '"}';
  form.appendChild(input); document.body.appendChild(form);
  const loaded = new Promise((resolve) => document.querySelector("iframe").onload = resolve);
  form.submit();
  await loaded;
  results.push("form posted");
  window.__results = results;
}
run();
</script></body></html>`;
}

browserTest(
  "browser: log in with the token, then the inspector and a wildcard EventSource get live events",
  async () => {
    await using un = await startUn({ config: { api: { token: TOKEN } } });
    await using chromium = await launchBrowser();
    const page = await chromium.browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(String(err)));
    await logIn(page, un);

    await page.waitForFunction('document.getElementById("status")?.textContent === "live"', {
      timeout: 10_000,
    });
    // A wildcard subscription: onmessage must see events whose types it never named.
    await page.evaluate(() => {
      const seen: string[] = [];
      (globalThis as unknown as { seen: string[] }).seen = seen;
      const source = new EventSource("/un/events/stream?type=app.**");
      source.onmessage = (e) => seen.push(JSON.parse(e.data).type);
    });
    // The stream subscribes as it opens; publish until the page has seen one.
    const deadline = Date.now() + 10_000;
    let seen: string[] = [];
    while (Date.now() < deadline && !seen.includes("app.deploy.finished")) {
      await api(un.url, "POST", "/un/events/publish", { type: "app.deploy.finished" }, AUTH);
      await api(un.url, "POST", "/un/tasks/create", { type: "noop" }, AUTH);
      await new Promise((resolve) => setTimeout(resolve, 200));
      seen = await page.evaluate(() => (globalThis as unknown as { seen: string[] }).seen);
    }
    assert.ok(seen.includes("app.deploy.finished"), `EventSource.onmessage saw ${seen}`);
    const rows = await page.evaluate('document.querySelectorAll("#messages tr").length') as number;
    assert.ok(rows > 0, "the inspector shows live actor messages");
    assert.deepEqual(errors, []);
  },
);

browserTest(
  "browser: a page from another origin cannot change un, even with the session cookie",
  async () => {
    await using un = await startUn({
      config: { api: { token: TOKEN }, workers: { concurrency: 2 } },
    });
    const attacker = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => new Response(attackPage(un.url), { headers: { "content-type": "text/html" } }),
    );
    await using _attacker = { [Symbol.asyncDispose]: () => attacker.shutdown() };
    await using chromium = await launchBrowser();
    const page = await chromium.browser.newPage();
    // The operator is logged in, in the same browser: a same-site page gets the cookie sent.
    await logIn(page, un);

    await page.goto(`http://127.0.0.1:${attacker.addr.port}/`);
    const results = await page.waitForFunction(
      () => (globalThis as unknown as { __results?: string[] }).__results,
      { timeout: 15_000 },
    ).then((handle) => handle.jsonValue() as Promise<string[]>);
    assert.ok(results.includes("form posted"), results.join(", "));
    assert.ok(!results.some((r) => r.startsWith("READ") || r === "JSON SENT"), results.join(", "));

    const tasks = await api<{ tasks: Task[] }>(un.url, "GET", "/un/tasks", undefined, AUTH);
    assert.deepEqual(tasks.body.tasks, [], "no task was created");
    const workers = await api<{ concurrency: number }>(
      un.url,
      "GET",
      "/un/workers",
      undefined,
      AUTH,
    );
    assert.equal(workers.body.concurrency, 2, "the pool was not scaled");
    const events = await api<{ events: Array<{ type: string }> }>(
      un.url,
      "GET",
      "/un/events/history?type=app.**",
      undefined,
      AUTH,
    );
    assert.deepEqual(events.body.events, [], "nothing was published");
    const health = await api(un.url, "GET", "/health");
    assert.equal(health.status, 200, "un still runs");
  },
);
