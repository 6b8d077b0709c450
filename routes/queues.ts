/**
 * Queues: `GET /un/queues`, task counts by queue and state.
 */

import { Hono } from "hono";
import type { ControlPlane } from "../lib/control.ts";

/**
 * Queue routes.
 *
 * @example
 * ```ts
 * app.route("/", queueRoutes(control));
 * ```
 */
export function queueRoutes(control: ControlPlane): Hono {
  const app = new Hono();
  app.get("/un/queues", async (c) => c.json({ queues: await control.store.queueCounts() }));
  return app;
}
