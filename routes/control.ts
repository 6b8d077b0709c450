/**
 * `POST /un/stop`: a graceful stop, as SIGTERM would do. The 202 goes out
 * first; the stop begins right after, and the server's graceful shutdown lets
 * this response finish.
 */

import { Hono } from "hono";
import { z } from "zod";
import type { ControlPlane } from "../lib/control.ts";
import { answer, describe } from "./describe.ts";

/** Delay between answering and stopping, so the answer is on the wire first. */
const STOP_DELAY_MS = 20;

/**
 * Control routes, relative to `/un/stop`.
 */
export function controlRoutes(control: Omit<ControlPlane, "store">) {
  return new Hono().post(
    "/",
    describe("control", "Stop this process gracefully, as SIGTERM does", {
      202: answer("The stop has begun", z.object({ stopping: z.literal(true) })),
    }),
    (c) => {
      setTimeout(() => {
        control.stop("api").catch((err) => control.log.error("stop failed", { error: err }));
      }, STOP_DELAY_MS);
      return c.json({ stopping: true as const }, 202);
    },
  );
}
