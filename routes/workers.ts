/**
 * Workers: `GET /un/workers` (the pool as it is: concurrency, each worker's
 * task, and each resource's capacity and use,
 * `resources: { gpu: { capacity: 1, inUse: 1 } }`) and `POST /un/workers/scale`.
 * Both ask the pool actor; a process without a pool (`--role api`) answers 503.
 */

import { Hono } from "hono";
import type { ControlPlane } from "../lib/control.ts";
import type { PoolInfo } from "../lib/messages.ts";
import { intIn, strictObject, validate } from "../lib/validate.ts";
import { askRuntime } from "./ask.ts";
import { readJson } from "./body.ts";

const scaleBody = strictObject({ concurrency: intIn(1, 256) });

/**
 * Worker routes.
 *
 * @example
 * ```ts
 * app.route("/", workerRoutes(control));
 * ```
 */
export function workerRoutes(control: ControlPlane): Hono {
  const app = new Hono();

  app.get("/un/workers", async (c) => {
    const info = await askRuntime<PoolInfo>(control, (reply) => ({ type: "workers.info", reply }));
    return c.json(info);
  });

  app.post("/un/workers/scale", async (c) => {
    const { concurrency } = validate(scaleBody, await readJson(c), "body");
    const info = await askRuntime<PoolInfo>(
      control,
      (reply) => ({ type: "workers.scale", concurrency, reply }),
    );
    return c.json({ concurrency: info.concurrency });
  });

  return app;
}
