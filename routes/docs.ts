/**
 * `GET /un/docs`: the API reference, Swagger UI over `/un/openapi.json`.
 * Every file comes from un itself (our machines have no network at run
 * time, and an operator's browser should not fetch code from a CDN to read
 * un's API): Swagger UI's bundle and style are read from the pinned
 * `swagger-ui-dist` npm package with text imports, loaded the first time
 * the page is asked for (a 2 MB bundle `un start` need not hold otherwise)
 * and embedded by `deno compile`. Behind the token like every `/un/*` route.
 */

import { Hono } from "hono";
import { z } from "zod";
import { NotFoundError } from "../lib/errors.ts";
import { describe, problems } from "./describe.ts";
import { params } from "./validator.ts";

/** The page's own script: starts Swagger UI (no validator badge: it would call validator.swagger.io). */
const INIT = `window.ui = SwaggerUIBundle({
  url: "/un/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
`;

const JS = "text/javascript; charset=utf-8";

/** The files the page loads, by name; each read once, on first use. */
const FILES: Record<string, { type: string; load: () => Promise<string> }> = {
  "swagger-ui-bundle.js": {
    type: JS,
    load: async () =>
      (await import("swagger-ui-dist/swagger-ui-bundle.js", { with: { type: "text" } })).default,
  },
  "swagger-ui.css": {
    type: "text/css; charset=utf-8",
    load: async () =>
      (await import("swagger-ui-dist/swagger-ui.css", { with: { type: "text" } })).default,
  },
  "init.js": { type: JS, load: () => Promise.resolve(INIT) },
};

const loaded = new Map<string, Promise<string>>();

const PAGE = [
  "<!doctype html>",
  '<html lang="en">',
  "<head>",
  '<meta charset="utf-8">',
  '<meta name="viewport" content="width=device-width, initial-scale=1">',
  "<title>un · API reference</title>",
  '<link rel="stylesheet" href="/un/docs/swagger-ui.css">',
  "</head>",
  "<body>",
  '<div id="swagger-ui"></div>',
  '<script src="/un/docs/swagger-ui-bundle.js"></script>',
  '<script src="/un/docs/init.js"></script>',
  "</body>",
  "</html>",
  "",
].join("\n");

const fileParam = params(z.object({ file: z.string().describe(Object.keys(FILES).join(", ")) }));

/**
 * Reference page routes, relative to `/un/docs`.
 */
export function docsRoutes(): Hono {
  const app = new Hono();
  app.get(
    "/",
    describe("docs", "This API's reference (an HTML page)", {
      200: { description: "Swagger UI", content: { "text/html": { schema: { type: "string" } } } },
    }),
    (c) => c.html(PAGE),
  );
  app.get(
    "/:file",
    describe("docs", "A script or style of the reference page", {
      200: { description: "The file", content: { "text/javascript": {}, "text/css": {} } },
      ...problems(404),
    }),
    fileParam,
    async (c) => {
      const name = c.req.valid("param").file;
      const file = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
      if (!file) throw new NotFoundError("file", name);
      let body = loaded.get(name);
      if (!body) loaded.set(name, body = file.load());
      // The package is pinned, so a file changes only with un: an hour of caching is safe.
      return c.body(await body, 200, {
        "content-type": file.type,
        "cache-control": "private, max-age=3600",
      });
    },
  );
  return app;
}
