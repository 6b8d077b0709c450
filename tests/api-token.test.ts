/**
 * Token mode as users meet it: what a 401 tells them, a token the config
 * must refuse, the browser login (form and `un open`'s one-time link) and
 * the session cookie it gives, which then opens the API and the event stream.
 */

import assert from "node:assert/strict";
import { assertError } from "./helpers/api.ts";
import { api } from "./helpers/http.ts";
import { runCli } from "./helpers/cli.ts";
import { startUn } from "./helpers/un-process.ts";

const TOKEN = "test-token-0123456789abcdef";

/** The `name=value` of a Set-Cookie header, and its attributes in lower case. */
function parseSetCookie(header: string | null): { pair: string; attributes: string[] } {
  assert.ok(header, "a Set-Cookie header");
  const [pair, ...attributes] = header.split(";").map((part) => part.trim());
  return { pair, attributes: attributes.map((a) => a.toLowerCase()) };
}

Deno.test("token mode: 401 says how to authenticate", async () => {
  await using un = await startUn({ config: { api: { token: TOKEN } } });
  const res = await fetch(`${un.url}/un/tasks`);
  assert.equal(res.status, 401);
  assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
  const body = await res.json();
  assert.equal(body.error.code, "unauthorized");
  assert.match(body.error.message, /Authorization: Bearer/);
  assert.match(body.error.message, /UN_TOKEN/);
  assert.match(body.error.message, /\/un\/login/);
  const wrong = await api(un.url, "GET", "/un/tasks", undefined, { authorization: "Bearer nope" });
  assert.match((assertError(wrong, 401)).error.message, /wrong token/);
  // A browser asking for a page is sent to the login form instead.
  const page = await fetch(`${un.url}/un/inspect`, {
    headers: { accept: "text/html" },
    redirect: "manual",
  });
  await page.body?.cancel();
  assert.equal(page.status, 303);
  assert.equal(page.headers.get("location"), "/un/login?next=%2Fun%2Finspect");
});

Deno.test("token mode: a token a bearer header cannot carry, or a short one, stops start-up", async () => {
  for (
    const [token, pattern] of [
      ["p@ss:w0rd!-long-enough", /api\.token must be letters, digits and -\._~\+\/ only/],
      ["short-token", /api\.token must be at least 16 characters/],
    ] as const
  ) {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/un.config.json`, JSON.stringify({ api: { token } }));
      const out = await runCli(["start", "--config", `${dir}/un.config.json`], {});
      assert.equal(out.code, 2, out.stderr);
      assert.match(out.stderr, pattern);
      assert.match(
        out.stderr,
        new RegExp(JSON.stringify(token).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("token mode: the login form gives a session cookie that opens the API and SSE", async (t) => {
  await using un = await startUn({ config: { api: { token: TOKEN } } });
  let cookie = "";

  await t.step("GET /un/login shows a form", async () => {
    const res = await fetch(`${un.url}/un/login?next=/un/tasks`);
    const html = await res.text();
    assert.equal(res.status, 200);
    assert.match(html, /<form method="post" action="\/un\/login">/);
    assert.match(html, /name="token" type="password"/);
  });

  await t.step("a wrong token is refused without a cookie", async () => {
    const res = await fetch(`${un.url}/un/login`, {
      method: "POST",
      body: new URLSearchParams({ token: "not-the-token-at-all", next: "/un/tasks" }),
      headers: { origin: un.url },
      redirect: "manual",
    });
    assert.equal(res.status, 401);
    assert.match(await res.text(), /not this instance/);
    assert.equal(res.headers.get("set-cookie"), null);
  });

  await t.step(
    "the right token sets an HttpOnly, SameSite=Strict cookie and redirects",
    async () => {
      const res = await fetch(`${un.url}/un/login`, {
        method: "POST",
        body: new URLSearchParams({ token: TOKEN, next: "/un/tasks" }),
        headers: { origin: un.url },
        redirect: "manual",
      });
      await res.body?.cancel();
      assert.equal(res.status, 303);
      assert.equal(res.headers.get("location"), "/un/tasks");
      const { pair, attributes } = parseSetCookie(res.headers.get("set-cookie"));
      assert.ok(attributes.includes("httponly"), attributes.join("; "));
      assert.ok(attributes.includes("samesite=strict"), attributes.join("; "));
      assert.ok(attributes.includes("path=/"), attributes.join("; "));
      cookie = pair;
    },
  );

  await t.step("the cookie opens the API, the event stream and the inspector", async () => {
    const tasks = await api(un.url, "GET", "/un/tasks", undefined, { cookie });
    assert.equal(tasks.status, 200);
    const stream = await fetch(`${un.url}/un/events/stream`, { headers: { cookie } });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get("content-type") ?? "", /text\/event-stream/);
    await stream.body?.cancel();
    const page = await fetch(`${un.url}/un/inspect`, { headers: { cookie } });
    assert.equal(page.status, 200);
    await page.body?.cancel();
    const forged = await api(un.url, "GET", "/un/tasks", undefined, {
      cookie: cookie.replace(/.$/, (c) => (c === "A" ? "B" : "A")),
    });
    assertError(forged, 401);
  });

  await t.step("a login never redirects to another host", async () => {
    for (const next of ["//evil.example/", "https://evil.example/", "/\\evil.example"]) {
      const res = await fetch(`${un.url}/un/login`, {
        method: "POST",
        body: new URLSearchParams({ token: TOKEN, next }),
        redirect: "manual",
      });
      await res.body?.cancel();
      assert.equal(res.status, 303);
      assert.equal(res.headers.get("location"), "/un/ui", next);
    }
  });
});

Deno.test("token mode: un open prints a one-time login link", async () => {
  await using un = await startUn({ config: { api: { token: TOKEN } } });
  const out = await runCli(["open", "/un/tasks"], { UN_URL: un.url, UN_TOKEN: TOKEN });
  assert.equal(out.code, 0, out.stderr);
  const link = out.stdout.trim();
  assert.ok(link.startsWith(`${un.url}/un/login?ticket=`), link);
  assert.ok(!link.includes(TOKEN), "the link does not carry the token");

  const first = await fetch(link, { redirect: "manual" });
  await first.body?.cancel();
  assert.equal(first.status, 303);
  assert.equal(first.headers.get("location"), "/un/tasks");
  const { pair } = parseSetCookie(first.headers.get("set-cookie"));
  assert.equal((await api(un.url, "GET", "/un/tasks", undefined, { cookie: pair })).status, 200);

  const again = await fetch(link, { redirect: "manual" });
  assert.equal(again.status, 401);
  assert.match(await again.text(), /used already/);
  assert.equal(again.headers.get("set-cookie"), null);

  const wrong = await runCli(["open"], { UN_URL: un.url, UN_TOKEN: "another-token-0123456789" });
  assert.equal(wrong.code, 1, wrong.stderr);
  assert.match(wrong.stderr, /token/);
});
