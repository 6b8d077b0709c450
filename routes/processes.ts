/**
 * Processes: `GET /un/processes`, every process sharing this store that
 * recorded itself within its last three heartbeats (on the embedded store,
 * this one), with its role, pool and when it was last heard from.
 */

import { Hono } from "hono";
import type { ControlPlane } from "../lib/control.ts";

/**
 * Process routes.
 *
 * @example
 * ```ts
 * app.route("/", processRoutes(control));
 * ```
 */
export function processRoutes(control: ControlPlane): Hono {
  const app = new Hono();

  app.get("/un/processes", async (c) => {
    const processes = await control.store.listProcesses(Date.now());
    return c.json({ self: control.processId, processes });
  });

  return app;
}
