/**
 * The dashboard: `GET /un/ui` (overview), `/un/ui/tasks[/:id]`,
 * `/un/ui/queues`, `/un/ui/sources[/:id]`, `/un/ui/events`,
 * `/un/ui/processes`, the actor inspector `/un/ui/actors` (with
 * `api.inspect`), their static files under `/un/ui/assets/`, and `GET /`
 * sending a browser to `/un/ui`.
 *
 * Pages are rendered here from what the JSON routes read (the store, the
 * inspector), never from an actor's state; their buttons call the JSON API
 * from the page. A request from htmx naming a live part (`HX-Target`) gets
 * that part alone. In token mode the auth middleware sends a browser without
 * a session to `/un/login` first.
 */

import { type Context, Hono } from "hono";
import type { ControlPlane } from "../lib/control.ts";
import { NotFoundError } from "../lib/errors.ts";
import { ASSETS } from "../ui/assets.ts";
import { Throughput } from "../ui/data/throughput.ts";
import { parseTaskQuery } from "../ui/data/task-query.ts";
import type { Page, UiContext } from "../ui/page.ts";
import { actorsPage } from "../ui/pages/actors.tsx";
import { eventsPage } from "../ui/pages/events.tsx";
import { overviewPage } from "../ui/pages/overview.tsx";
import { processesPage } from "../ui/pages/processes.tsx";
import { queuesPage } from "../ui/pages/queues.tsx";
import { sourcePage, sourcesPage } from "../ui/pages/sources.tsx";
import { taskDetailPage } from "../ui/pages/task.tsx";
import { tasksPage } from "../ui/pages/tasks.tsx";
import { notFoundPage, renderPage } from "../ui/render.tsx";

/** The dashboard's home. */
export const UI_HOME = "/un/ui";

/**
 * Dashboard routes.
 */
export function uiRoutes(control: ControlPlane): Hono {
  const app = new Hono();
  const inspect = control.config.api.inspect;
  const throughput = new Throughput(control);
  const ui = (): UiContext => ({ control, throughput, now: Date.now() });

  const render = (c: Context, page: Page) => renderPage(c, page, { inspect });
  const missing = (c: Context, what: "task" | "source", id: string) =>
    renderPage(c, notFoundPage(what, id), { inspect, status: 404 });

  app.get("/", (c) => c.redirect(UI_HOME, 302));
  app.get(UI_HOME, async (c) => render(c, await overviewPage(ui())));
  app.get(
    "/un/ui/tasks",
    async (c) => render(c, await tasksPage(ui(), parseTaskQuery(c.req.query()))),
  );
  app.get("/un/ui/tasks/:id", async (c) => {
    const page = await taskDetailPage(ui(), c.req.param("id"));
    return page ? render(c, page) : missing(c, "task", c.req.param("id"));
  });
  app.get("/un/ui/queues", async (c) => render(c, await queuesPage(ui())));
  app.get("/un/ui/sources", async (c) => render(c, await sourcesPage(ui())));
  app.get("/un/ui/sources/:id", async (c) => {
    const page = await sourcePage(ui(), c.req.param("id"));
    return page ? render(c, page) : missing(c, "source", c.req.param("id"));
  });
  app.get("/un/ui/events", (c) => render(c, eventsPage(c.req.query("type"))));
  app.get("/un/ui/processes", async (c) => render(c, await processesPage(ui())));
  if (inspect) {
    app.get("/un/ui/actors", (c) => render(c, actorsPage(control.inspect.actors())));
  }

  // Browsers ask for it on every page; a 404 would be a console error on each.
  app.get("/favicon.ico", (c) => {
    const icon = ASSETS.get("favicon.svg")!;
    return c.body(icon.body, 200, { "content-type": icon.type, "cache-control": "max-age=86400" });
  });
  app.get("/un/ui/assets/:name", (c) => {
    const asset = ASSETS.get(c.req.param("name"));
    if (!asset) throw new NotFoundError("asset", c.req.param("name"));
    // URLs carry the content hash: a cached copy is never stale.
    const cache = c.req.query("v") === asset.hash ? "max-age=31536000, immutable" : "no-cache";
    return c.body(asset.body, 200, { "content-type": asset.type, "cache-control": cache });
  });

  return app;
}
