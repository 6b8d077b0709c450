/**
 * The HTTP control plane: a small Hono app over one module per resource.
 *
 * Middleware, outermost first: the browser guard on every route (foreign
 * `Host` 421, foreign `Origin` or cross-site 403, non-JSON bodies 415, CORS
 * for `api.cors.origins`; routes/guard.ts), the token on `/un/*` and
 * `/metrics` when `api.token` is set (`/health` stays open for load
 * balancers; routes/auth.ts), the request body limit (`api.bodyLimitBytes`,
 * 413), then the routes: each resource mounted at its own path, its module
 * declaring paths relative to it. Unknown routes are a JSON 404 (405 with
 * `Allow` when the path exists for another method), and anything a route
 * throws becomes a JSON error: nothing a client sends can crash the process.
 * The API is described at `/un/openapi.json` and `/un/docs`.
 */

import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { TrieRouter } from "hono/router/trie-router";
import type { ControlPlane } from "../lib/control.ts";
import { tokenAuth } from "./auth.ts";
import { controlRoutes } from "./control.ts";
import { docsRoutes } from "./docs.ts";
import { errorFromThrown, errorResponse } from "./errors.ts";
import { eventRoutes } from "./events.ts";
import { githubRoutes, isWebhookPath } from "./github.ts";
import { browserGuard } from "./guard.ts";
import { healthRoutes } from "./health.ts";
import { hookRoutes } from "./hooks.ts";
import { scheduleRoutes } from "./schedules.ts";
import { inspectRoutes } from "./inspect.ts";
import { LOGIN_PATH, loginRoutes, LOGOUT_PATH } from "./login.ts";
import { openApiRoutes } from "./openapi.ts";
import { queueRoutes } from "./queues.ts";
import { requestId } from "./request-id.ts";
import { scanAllRoutes, scanRoutes } from "./scans.ts";
import { sourceRoutes } from "./sources.ts";
import { storeRoutes } from "./store.ts";
import { subscribeRoutes, subscriptionRoutes } from "./subscriptions.ts";
import { taskRoutes } from "./tasks.ts";
import { batchRoutes } from "./batches.ts";
import { uiRoutes } from "./ui.ts";
import { whyRoutes } from "./why.ts";
import { processRoutes } from "./processes.ts";
import { workerRoutes } from "./workers.ts";

/** Paths behind the token: the API and the metrics; `/health` stays open for load balancers. */
function isProtected(path: string): boolean {
  return path === "/metrics" || path === "/un" || path.startsWith("/un/");
}

/**
 * The methods each path of the route table answers to, for 405 and `Allow`
 * (Hono answers 404 when a path exists for other methods only). Built once,
 * after every route is mounted. A static route wins over a parameter one, as
 * in the router: `/un/tasks/create` is POST only even though `/un/tasks/:id`
 * would match it.
 */
function methodTable(app: Hono): (path: string) => string[] {
  const byPath = new Map<string, Set<string>>();
  for (const { method, path } of app.routes) {
    if (method === "ALL") continue; // middleware
    if (!byPath.has(path)) byPath.set(path, new Set());
    byPath.get(path)!.add(method);
  }
  const router = new TrieRouter<{ methods: string[]; static: boolean }>();
  for (const [path, methods] of byPath) {
    if (methods.has("GET")) methods.add("HEAD");
    router.add("ALL", path, { methods: [...methods], static: !/[:*]/.test(path) });
  }
  return (path) => {
    // `strict: false`: `/un/tasks/` is `/un/tasks`.
    const found = router.match("GET", path.replace(/(.)\/+$/, "$1"))[0].map(([entry]) => entry);
    const best = found.some((e) => e.static) ? found.filter((e) => e.static) : found;
    return [...new Set(best.flatMap((e) => e.methods))];
  };
}

/**
 * The JSON API, each resource under its own path. Its type is what a typed
 * client (`hc<AppType>`, cli/client.ts) knows of the API.
 */
function apiRoutes(control: ControlPlane) {
  return new Hono()
    .route("/un/events", eventRoutes(control))
    .route("/un/events", subscribeRoutes(control))
    .route("/un/subscriptions", subscriptionRoutes(control))
    .route("/un/tasks", taskRoutes(control))
    .route("/un/tasks", whyRoutes(control))
    .route("/un/batches", batchRoutes(control))
    .route("/un/queues", queueRoutes(control))
    .route("/un/workers", workerRoutes(control))
    .route("/un/processes", processRoutes(control))
    .route("/un/sources", sourceRoutes(control))
    .route("/un/hooks", hookRoutes(control))
    .route("/un/schedules", scheduleRoutes(control))
    .route("/un/sources", scanRoutes(control))
    .route("/un/scan", scanAllRoutes(control))
    .route("/un/github", githubRoutes(control))
    .route("/un/stop", controlRoutes(control))
    .route("/un/store", storeRoutes(control));
}

/**
 * The API's routes and their types, for `hc<AppType>` from `hono/client`.
 *
 * @example
 * ```ts
 * const api = hc<AppType>("http://127.0.0.1:4242");
 * const { task } = await (await api.un.tasks[":id"].$get({ param: { id } })).json();
 * ```
 */
export type AppType = ReturnType<typeof apiRoutes>;

/**
 * Builds the control-plane app for a running runtime.
 *
 * @example
 * ```ts
 * const app = createApp(runtime);
 * Deno.serve({ port: 4242 }, app.fetch);
 * ```
 */
export function createApp(control: ControlPlane): Hono {
  const { token, bodyLimitBytes, host, allowedHosts, cors } = control.config.api;
  const log = control.log.child("api");
  // strict: false lets `/un/tasks/` mean `/un/tasks`, as curl users type it.
  const app = new Hono({ strict: false });
  app.use("*", requestId(log)); // first: every answer, refusals too, carries X-Request-Id

  const formPaths = (path: string) =>
    path === LOGIN_PATH || path === LOGOUT_PATH || isWebhookPath(path);
  for (
    const middleware of browserGuard({
      boundHost: host,
      allowedHosts,
      corsOrigins: cors.origins,
      formPaths,
    })
  ) {
    app.use("*", middleware);
  }
  if (token) {
    // GitHub cannot send our token: the webhook authenticates by its signature (routes/github.ts).
    app.use("*", tokenAuth(token, (path) => !isProtected(path) || formPaths(path)));
  }

  app.use(
    "*",
    bodyLimit({
      maxSize: bodyLimitBytes,
      onError: (c) =>
        errorResponse(
          c,
          413,
          "body_too_large",
          `request body exceeds ${bodyLimitBytes} bytes (api.bodyLimitBytes)`,
          {
            field: "body",
            limit: bodyLimitBytes,
          },
        ),
    }),
  );

  app.route("/", healthRoutes(control));
  app.route("/", apiRoutes(control));
  app.route("/", inspectRoutes(control));
  app.route("/", uiRoutes(control));
  app.route("/un", loginRoutes(token));
  app.route("/un", openApiRoutes(app));
  app.route("/un/docs", docsRoutes());

  // After every mount above: the table is read from the routes once.
  const allowedMethods = methodTable(app);
  app.notFound((c) => {
    const allowed = allowedMethods(c.req.path);
    if (allowed.length > 0) {
      c.header("Allow", allowed.join(", "));
      return errorResponse(
        c,
        405,
        "method_not_allowed",
        `${c.req.method} is not allowed on ${c.req.path}`,
        {
          method: c.req.method,
          path: c.req.path,
          allowed,
        },
      );
    }
    return errorResponse(c, 404, "not_found", `no route ${c.req.method} ${c.req.path}`, {
      method: c.req.method,
      path: c.req.path,
    });
  });
  app.onError((err, c) => errorFromThrown(err, c, log));
  return app;
}
