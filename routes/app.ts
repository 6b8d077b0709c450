/**
 * The HTTP control plane: a small Hono app over one module per resource.
 *
 * Middleware, outermost first: the browser guard on every route (foreign
 * `Host` 421, foreign `Origin` or cross-site 403, non-JSON bodies 415, CORS
 * for `api.cors.origins`; routes/guard.ts), the token on `/un/*` and
 * `/metrics` when `api.token` is set (`/health` stays open for load
 * balancers; routes/auth.ts), the request body limit (`api.bodyLimitBytes`,
 * 413), then the routes. Unknown routes are a
 * JSON 404 (405 with `Allow` when the path exists for another method), and
 * anything a route throws becomes a JSON error: nothing a client sends can
 * crash the process.
 */

import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ControlPlane } from "../lib/control.ts";
import { tokenAuth } from "./auth.ts";
import { controlRoutes } from "./control.ts";
import { errorFromThrown, errorResponse } from "./errors.ts";
import { eventRoutes } from "./events.ts";
import { githubRoutes, isWebhookPath } from "./github.ts";
import { browserGuard } from "./guard.ts";
import { healthRoutes } from "./health.ts";
import { inspectRoutes } from "./inspect.ts";
import { LOGIN_PATH, loginRoutes, LOGOUT_PATH } from "./login.ts";
import { queueRoutes } from "./queues.ts";
import { requestId } from "./request-id.ts";
import { scanRoutes } from "./scans.ts";
import { sourceRoutes } from "./sources.ts";
import { storeRoutes } from "./store.ts";
import { taskRoutes } from "./tasks.ts";
import { uiRoutes } from "./ui.ts";
import { processRoutes } from "./processes.ts";
import { workerRoutes } from "./workers.ts";

/** Paths behind the token: the API and the metrics; `/health` stays open for load balancers. */
function isProtected(path: string): boolean {
  return path === "/metrics" || path === "/un" || path.startsWith("/un/");
}

/**
 * Methods a path answers to, from the app's route table (for 405 and `Allow`).
 * A static route wins over a parameter one, as in the router: `/un/tasks/create`
 * is POST only even though `/un/tasks/:id` would match it.
 */
function allowedMethods(app: Hono, path: string): string[] {
  const matches: Array<{ method: string; static: boolean }> = [];
  for (const route of app.routes) {
    if (route.method === "ALL") continue; // middleware
    const pattern = route.path
      .split("/")
      .map((part) => part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join("/");
    if (new RegExp(`^${pattern}/?$`).test(path)) {
      matches.push({ method: route.method, static: !route.path.includes(":") });
    }
  }
  const best = matches.some((m) => m.static) ? matches.filter((m) => m.static) : matches;
  const methods = new Set(best.map((m) => m.method));
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods];
}

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

  for (
    const routes of [
      healthRoutes,
      eventRoutes,
      taskRoutes,
      queueRoutes,
      workerRoutes,
      processRoutes,
      sourceRoutes,
      scanRoutes,
      githubRoutes,
      controlRoutes,
      inspectRoutes,
      storeRoutes,
      uiRoutes,
    ]
  ) {
    app.route("/", routes(control));
  }
  app.route("/", loginRoutes(token));

  app.notFound((c) => {
    const allowed = allowedMethods(app, c.req.path);
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
