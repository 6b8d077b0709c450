/**
 * Health and metrics: `GET /health` (200 ok, 503 degraded), `GET /health/queue`
 * (counts per queue) and `GET /metrics` (Prometheus text).
 */

import { errorText } from "../lib/errors.ts";
import { Hono } from "hono";
import type { ControlWith } from "../lib/control.ts";
import type { TaskStore } from "../lib/store/types.ts";
import { METRICS_CONTENT_TYPE } from "../lib/metrics/render.ts";

/**
 * `GET /health/queue` counts of one queue ("scheduled" includes tasks waiting to retry).
 */
export interface QueueHealth {
  queued: number;
  running: number;
  scheduled: number;
  failed: number;
  dead: number;
}

/**
 * Health routes.
 */
export function healthRoutes(control: ControlWith<TaskStore>): Hono {
  const app = new Hono();

  app.get("/health", async (c) => {
    try {
      const report = await control.health();
      return c.json(report, report.status === "ok" ? 200 : 503);
    } catch (err) {
      // A health check that cannot even run is the clearest sign of a degraded runtime.
      const problem = errorText(err);
      return c.json({ status: "degraded", processId: control.processId, problems: [problem] }, 503);
    }
  });

  app.get("/health/queue", async (c) => {
    const counts = await control.store.queueCounts();
    const queues: Record<string, QueueHealth> = {};
    for (const [name, q] of Object.entries(counts)) {
      // "scheduled" includes tasks waiting for a retry: both are due later.
      queues[name] = {
        queued: q.queued,
        running: q.running,
        scheduled: q.scheduled + q.retrying,
        failed: q.failed,
        dead: q.dead,
      };
    }
    return c.json({ queues });
  });

  // Each scrape reads the store (docs/metrics.md): nothing is cached between scrapes.
  app.get("/metrics", async (c) => {
    const text = await control.metrics();
    return c.body(text, 200, { "content-type": METRICS_CONTENT_TYPE, "cache-control": "no-store" });
  });

  return app;
}
