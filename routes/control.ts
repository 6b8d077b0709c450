/**
 * `POST /un/stop`: a graceful stop, as SIGTERM would do. The 202 goes out
 * first; the stop begins right after, and the server's graceful shutdown lets
 * this response finish.
 */

import { Hono } from "hono";
import type { ControlPlane } from "../lib/control.ts";

/** Delay between answering and stopping, so the answer is on the wire first. */
const STOP_DELAY_MS = 20;

/**
 * Control routes.
 *
 * @example
 * ```ts
 * app.route("/", controlRoutes(control));
 * ```
 */
export function controlRoutes(control: ControlPlane): Hono {
  const app = new Hono();
  app.post("/un/stop", (c) => {
    setTimeout(() => {
      control.stop("api").catch((err) => control.log.error("stop failed", { error: err }));
    }, STOP_DELAY_MS);
    return c.json({ stopping: true }, 202);
  });
  return app;
}
