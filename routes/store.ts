/**
 * The store's care, under `/un/store`: `POST /un/store/ack-reset`, an operator's word that they
 * have seen Redis lose its data (`un store ack-reset`). It stamps the loss as
 * acknowledged in Redis, so this process clears at once and every other
 * process of the cluster at its next heartbeat; `/health` is ok again unless
 * something else is wrong. Nothing to acknowledge is not an error: the answer
 * says so (`acknowledged: false`), so the command is safe to repeat.
 */

import { Hono } from "hono";
import { z } from "zod";
import type { ControlWith } from "../lib/control.ts";
import type { StoreLifecycle } from "../lib/store/types.ts";
import { reportsFaults } from "../lib/store/redis/fault-report.ts";
import { answer, describe, problems } from "./describe.ts";
import { objectSchema } from "./schemas.ts";

/**
 * Store routes, relative to `/un/store`.
 */
export function storeRoutes(control: ControlWith<StoreLifecycle>) {
  return new Hono().post(
    "/ack-reset",
    describe("store", "Acknowledge that Redis lost its data", {
      200: answer(
        "Whether there was a loss to acknowledge, and which",
        z.object({
          store: z.string(),
          acknowledged: z.boolean(),
          reset: objectSchema.nullable(),
        }),
      ),
      ...problems(503),
    }),
    async (c) => {
      const store = control.store;
      const { acknowledged, reset } = reportsFaults(store)
        ? await store.ackReset()
        : { acknowledged: false, reset: null };
      return c.json({ store: store.kind, acknowledged, reset });
    },
  );
}
