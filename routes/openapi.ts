/**
 * `GET /un/openapi.json`: the API as an OpenAPI 3.1 document, generated
 * from the app's route table by hono-openapi. Each operation's parameters
 * and request body come from the zod schemas its validators check with
 * (routes/validator.ts), its answers from `describe()` (routes/describe.ts).
 * `/health`, `/health/queue` and `/metrics` are described here, their module
 * being plain Hono; a route nobody described (a page, a development tool)
 * still appears, with a generic answer, so the document lists every route.
 * Built once, on first request: the route table does not change after start.
 */

import { Hono } from "hono";
import { generateSpecs } from "hono-openapi";
import { z } from "zod";
import manifest from "../deno.json" with { type: "json" };
import { answer, describe } from "./describe.ts";

/** An OpenAPI document, as far as this module reads and writes it. */
export type OpenApiDocument = Awaited<ReturnType<typeof generateSpecs>>;

/** Summary of an operation no route described; tests tell generic entries by it. */
export const UNDESCRIBED = "Not described here (a page or a development tool)";

type Documentation = NonNullable<Parameters<typeof generateSpecs>[1]>["documentation"];

const counts = { type: "object", additionalProperties: { type: "integer" } } as const;

const DOCUMENTATION: Documentation = {
  info: {
    title: "un control plane",
    version: manifest.version,
    description: "Events, tasks, sources and workers of a running un. Errors are always " +
      "`{ error: { code, message, details } }` with a 4xx or 5xx status.",
  },
  tags: [
    ...["tasks", "events", "sources", "hooks", "schedules", "queues", "workers", "processes"]
      .concat(["store", "control", "health", "docs"]).map((name) => ({ name })),
    { name: "pages", description: "The dashboard, the login and development tools" },
  ],
  components: {
    securitySchemes: {
      token: {
        type: "http",
        scheme: "bearer",
        description: "`api.token` (the CLI sends `UN_TOKEN`); needed only when one is set. " +
          "Browsers log in at /un/login instead.",
      },
    },
  },
  security: [{ token: [] }],
  // routes/health.ts carries no OpenAPI metadata of its own.
  paths: {
    "/health": {
      get: {
        tags: ["health"],
        summary: "Whether this process is healthy (open without the token, for load balancers)",
        operationId: "getHealth",
        security: [],
        responses: {
          200: {
            description: "ok",
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  properties: { status: { const: "ok" } },
                  required: ["status"],
                },
              },
            },
          },
          503: {
            description: "degraded: `problems` says why",
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  properties: {
                    status: { const: "degraded" },
                    problems: { type: "array", items: { type: "string" } },
                  },
                  required: ["status"],
                },
              },
            },
          },
        },
      },
    },
    "/health/queue": {
      get: {
        tags: ["health"],
        summary: "Task counts per queue (open without the token)",
        operationId: "getHealthQueue",
        security: [],
        responses: {
          200: {
            description: "queued, running, scheduled (retries included), failed and dead per queue",
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  properties: { queues: { type: "object", additionalProperties: counts } },
                  required: ["queues"],
                },
              },
            },
          },
        },
      },
    },
    "/metrics": {
      get: {
        tags: ["health"],
        summary: "Prometheus metrics",
        operationId: "getMetrics",
        responses: {
          200: {
            description: "Prometheus text exposition",
            content: { "text/plain": { schema: { type: "string" } } },
          },
        },
      },
    },
  },
};

/** `/un/tasks/:id` → `/un/tasks/{id}` (and `:name{regex}` → `{name}`), as OpenAPI writes paths. */
function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?\??/g, "{$1}");
}

/** Adds a generic operation for every route of the table the document lacks. */
function addUndescribed(app: Hono, doc: OpenApiDocument): void {
  const paths = (doc.paths ??= {}) as Record<string, Record<string, unknown>>;
  for (const { method, path } of app.routes) {
    // "ALL" routes are middleware; a `*` path is a catch-all, not an operation.
    if (method === "ALL" || path.includes("*")) continue;
    const key = openApiPath(path);
    const verb = method.toLowerCase();
    if (paths[key]?.[verb]) continue;
    const parameters = [...key.matchAll(/\{([^}]+)\}/g)].map(([, name]) => ({
      in: "path",
      name,
      required: true,
      schema: { type: "string" },
    }));
    (paths[key] ??= {})[verb] = {
      tags: ["pages"],
      summary: UNDESCRIBED,
      ...(parameters.length ? { parameters } : {}),
      responses: { default: { description: "See the un documentation" } },
    };
  }
}

/**
 * The OpenAPI document of an app (after every route is mounted).
 */
export async function openApiDocument(app: Hono): Promise<OpenApiDocument> {
  const doc = await generateSpecs(app, {
    documentation: DOCUMENTATION,
    // Routes with validators list their 400 themselves, with the one error body.
    defaultValidationErrorResponse: false,
    // `/un/openapi.json` is an operation, not a static file.
    excludeStaticFile: false,
  });
  addUndescribed(app, doc);
  return doc;
}

/**
 * The document's route, relative to `/un`; `app` is the whole app it describes.
 */
export function openApiRoutes(app: Hono): Hono {
  let doc: Promise<OpenApiDocument> | undefined;
  const routes = new Hono();
  routes.get(
    "/openapi.json",
    describe("docs", "This document", {
      200: answer("OpenAPI 3.1", z.object({ openapi: z.string() }).loose()),
    }),
    async (c) => {
      // A failed build is tried again on the next request, not kept.
      doc ??= openApiDocument(app).catch((err) => {
        doc = undefined;
        throw err;
      });
      return c.json(await doc);
    },
  );
  return routes;
}
