/**
 * The API description: `/un/openapi.json` lists every route of the app's
 * route table and is valid OpenAPI 3.1, `/un/docs` is a page whose every
 * file comes from un itself, both sit behind the token, and a client typed
 * from the app (`hc<AppType>`) talks to a real `un start`.
 */

import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { hc } from "hono/client";
import type { ControlPlane } from "../lib/control.ts";
import { parseConfig } from "../lib/config/load.ts";
import { silentLogger } from "../lib/log.ts";
import { type AppType, createApp } from "../routes/app.ts";
import { type OpenApiDocument, openApiDocument, UNDESCRIBED } from "../routes/openapi.ts";
import { startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const TOKEN = "openapi-test-token-0123456789";
const auth = { authorization: `Bearer ${TOKEN}` };
const CONFIG = { api: { token: TOKEN, inspect: true } };

/** Routes that are pages or development tools, which may go without a description. */
const PAGES = /^\/($|favicon\.ico$|un\/(login|logout)$|un\/(ui|inspect|debug)(\/|$))/;

/**
 * The app `un start` serves for {@link CONFIG}, built in-process for its route
 * table: building it reads only the config and the logger.
 */
function appFor(config: Record<string, unknown>) {
  const control = { config: parseConfig(config), log: silentLogger } as unknown as ControlPlane;
  return createApp(control);
}

/** `/un/tasks/:id` → `/un/tasks/{id}`. */
function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?\??/g, "{$1}");
}

type Operation = { summary?: string; requestBody?: unknown; responses?: Record<string, unknown> };

function operation(doc: OpenApiDocument, path: string, method: string): Operation | undefined {
  const paths = doc.paths as Record<string, Record<string, Operation>> | undefined;
  return paths?.[path]?.[method];
}

Deno.test("OpenAPI document and reference page", async (t) => {
  await using un = await startUn({ config: CONFIG });
  const res = await fetch(`${un.url}/un/openapi.json`, { headers: auth });
  assert.equal(res.status, 200);
  const doc: OpenApiDocument = await res.json();

  await t.step("both need the token, like every /un/* route", async () => {
    const json = await fetch(`${un.url}/un/openapi.json`);
    await json.body?.cancel();
    assert.equal(json.status, 401);
    const page = await fetch(`${un.url}/un/docs`, {
      headers: { accept: "text/html" },
      redirect: "manual",
    });
    await page.body?.cancel();
    assert.equal(page.status, 303);
    assert.match(page.headers.get("location") ?? "", /^\/un\/login\?next=%2Fun%2Fdocs/);
  });

  await t.step("every route of the app's table is in the document", async () => {
    const app = appFor(CONFIG);
    const local = await openApiDocument(app);
    assert.deepEqual(Object.keys(doc.paths ?? {}).sort(), Object.keys(local.paths ?? {}).sort());
    let checked = 0;
    for (const { method, path } of app.routes) {
      // "ALL" routes are middleware; a `*` path is a catch-all, not an operation.
      if (method === "ALL" || path.includes("*")) continue;
      const found = operation(doc, openApiPath(path), method.toLowerCase());
      assert.ok(found, `${method} ${path} is in /un/openapi.json`);
      if (!PAGES.test(path)) {
        assert.notEqual(found.summary, UNDESCRIBED, `${method} ${path} is described`);
      }
      checked++;
    }
    assert.ok(checked > 30, `${checked} routes checked`);
    for (const path of ["/health", "/health/queue", "/metrics", "/un/docs", "/un/openapi.json"]) {
      assert.notEqual(operation(doc, path, "get")?.summary ?? UNDESCRIBED, UNDESCRIBED, path);
    }
  });

  await t.step("the document is valid OpenAPI 3.1", async () => {
    assert.equal(doc.openapi, "3.1.0");
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as never);
    assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
  });

  await t.step("schemas come from the routes' validators and answers", () => {
    const schemas = doc.components?.schemas ?? {};
    for (const name of ["Task", "Event", "Source", "Error", "Scan"]) {
      assert.ok(schemas[name], `components.schemas.${name}`);
    }
    const create = operation(doc, "/un/tasks/create", "post");
    const body = JSON.stringify(create?.requestBody);
    for (const key of ["priority", "delayMs", "dependsOn", "tasks"]) {
      assert.match(body, RegExp(key));
    }
    const one = JSON.stringify(operation(doc, "/un/tasks/{id}", "get")?.responses);
    assert.match(one, /#\/components\/schemas\/Task/);
    assert.match(one, /#\/components\/schemas\/Error/);
    const list = JSON.stringify(doc.paths?.["/un/tasks"]?.get?.parameters);
    for (const name of ["state", "queue", "type", "limit"]) assert.match(list, RegExp(name));
  });

  await t.step("/un/docs is HTML whose files all come from un", async () => {
    const page = await fetch(`${un.url}/un/docs`, { headers: auth });
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    const html = await page.text();
    const refs = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)]
      .map((m) => m[1]);
    assert.ok(refs.length >= 2, html);
    for (const ref of refs) {
      assert.doesNotMatch(ref, /^(https?:)?\/\//, `${ref} is served by un`);
      const file = await fetch(new URL(ref, `${un.url}/un/docs`), { headers: auth });
      const text = await file.text();
      assert.equal(file.status, 200, ref);
      assert.match(file.headers.get("content-type") ?? "", /^text\/(javascript|css)/, ref);
      assert.ok(text.length > 0, ref);
    }
    const missing = await fetch(`${un.url}/un/docs/nope.js`, { headers: auth });
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, "not_found");
  });

  await t.step("a client typed from the app creates and reads a task", async () => {
    const client = hc<AppType>(un.url, { headers: auth });
    const created = await client.un.tasks.create.$post({
      json: { type: "noop", payload: { n: 1 }, priority: 7 },
    });
    assert.equal(created.status, 201);
    const body = await created.json();
    assert.ok("task" in body, JSON.stringify(body));
    const id = body.task.id;
    assert.equal(body.task.priority, 7);
    const done = await eventually(async () => {
      const res = await client.un.tasks[":id"].$get({ param: { id } });
      const { task } = await res.json();
      return task.state === "succeeded" ? task : undefined;
    }, { timeoutMs: 10_000, message: "the noop task succeeds" });
    assert.equal(done.id, id);
    assert.deepEqual(done.result, { n: 1 });
    const listed = await (await client.un.tasks.$get({ query: { type: "noop" } })).json();
    assert.ok(listed.tasks.some((task) => task.id === id));
  });

  await t.step("405 comes from the route table, mounted paths included", async () => {
    const res = await fetch(`${un.url}/un/queues/`, { method: "DELETE", headers: auth });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, HEAD");
    const body = await res.json();
    assert.equal(body.error.code, "method_not_allowed");
    assert.deepEqual(body.error.details.allowed, ["GET", "HEAD"]);
  });
});
