/**
 * The store's care: `POST /un/store/ack-reset`, an operator's word that they
 * have seen Redis lose its data (`un store ack-reset`). It stamps the loss as
 * acknowledged in Redis, so this process clears at once and every other
 * process of the cluster at its next heartbeat; `/health` is ok again unless
 * something else is wrong. Nothing to acknowledge is not an error: the answer
 * says so (`acknowledged: false`), so the command is safe to repeat.
 */

import { Hono } from "hono";
import type { ControlPlane } from "../lib/control.ts";
import { reportsFaults } from "../lib/store/redis/fault-report.ts";

/**
 * Store routes.
 *
 * @example
 * ```ts
 * app.route("/", storeRoutes(control));
 * ```
 */
export function storeRoutes(control: ControlPlane): Hono {
  const app = new Hono();

  app.post("/un/store/ack-reset", async (c) => {
    const store = control.store;
    const { acknowledged, reset } = reportsFaults(store)
      ? await store.ackReset()
      : { acknowledged: false, reset: null };
    return c.json({ store: store.kind, acknowledged, reset });
  });

  return app;
}
