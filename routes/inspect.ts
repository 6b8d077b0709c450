/**
 * The development inspector: `GET /un/inspect` (a page), `GET /un/inspect/actors`
 * and `GET /un/inspect/stream` (SSE of routed messages). Served when
 * `api.inspect` is on. With `UN_FAULTS=crash` (tests only),
 * `POST /un/debug/crash/:actor` makes an actor throw so supervision can be seen.
 */

import { Hono } from "hono";
import type { ControlPlane, InspectRecord } from "../lib/control.ts";
import { parseFaults } from "../lib/deps.ts";
import { inspectPage } from "./inspect-page.ts";
import { sseStream } from "./sse.ts";

/** Records a new stream starts with. */
const RECENT = 200;

function sseOf(record: InspectRecord) {
  return { id: String(record.seq), event: "message", data: JSON.stringify(record) };
}

/**
 * Inspector routes.
 *
 * @example
 * ```ts
 * app.route("/", inspectRoutes(control));
 * ```
 */
export function inspectRoutes(control: ControlPlane): Hono {
  const app = new Hono();

  if (control.config.api.inspect) {
    app.get("/un/inspect", (c) => c.html(inspectPage(control.inspect.actors())));
    app.get("/un/inspect/actors", (c) => c.json({ actors: control.inspect.actors() }));
    app.get("/un/inspect/stream", (c) =>
      sseStream(c, control, (feed) => {
        for (const record of control.inspect.recent(RECENT)) void feed.send(sseOf(record));
        return control.inspect.subscribe((record) => void feed.send(sseOf(record)));
      }));
  }

  if (parseFaults(Deno.env.get("UN_FAULTS")).crash) {
    app.post("/un/debug/crash/:actor", (c) => {
      const actor = c.req.param("actor");
      control.send({ type: "debug.crash", actor });
      return c.json({ crashing: actor }, 202);
    });
  }

  return app;
}
