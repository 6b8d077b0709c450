/**
 * The development inspector's data: `GET /un/inspect/actors` (the whole
 * supervision tree), `GET /un/inspect/actors/:id` (one actor's redacted
 * context and its machine's chart) and `GET /un/inspect/stream` (SSE of
 * routed messages; a worker's idle loop is one record, sent again as it
 * grows). Its page is `/un/ui/actors` (routes/ui.ts); `GET /un/inspect`
 * redirects there. Served when `api.inspect` is on. With `UN_FAULTS=crash`
 * (tests only), `POST /un/debug/crash/:actor` makes an actor throw so
 * supervision can be seen.
 */

import { Hono } from "hono";
import type { ControlPlane, InspectRecord } from "../lib/control.ts";
import { parseFaults } from "../lib/protocol/deps.ts";
import { NotFoundError } from "../lib/errors.ts";
import { encodeSse, sseStream } from "./sse.ts";

/** Records a new stream starts with. */
const RECENT = 200;

/** Encoded frames per record: every stream sends (and queues) the same bytes. */
const frames = new WeakMap<InspectRecord, Uint8Array>();

/** A record as a plain `message` frame (what the page's EventSource `onmessage` reads). */
function frameOf(record: InspectRecord): Uint8Array {
  let frame = frames.get(record);
  if (!frame) {
    frame = encodeSse({ id: String(record.seq), data: JSON.stringify(record) });
    frames.set(record, frame);
  }
  return frame;
}

/**
 * Inspector routes.
 */
export function inspectRoutes(control: ControlPlane): Hono {
  const app = new Hono();

  if (control.config.api.inspect) {
    app.get("/un/inspect", (c) => c.redirect("/un/ui/actors", 302));
    app.get("/un/inspect/actors", (c) => c.json({ actors: control.inspect.actors() }));
    app.get("/un/inspect/actors/:id", (c) => {
      const detail = control.inspect.actor(c.req.param("id"));
      if (!detail) throw new NotFoundError("actor", c.req.param("id"));
      return c.json(detail);
    });
    app.get("/un/inspect/stream", (c) =>
      sseStream(c, control, (feed) => {
        for (const record of control.inspect.recent(RECENT)) {
          if (!feed.send(frameOf(record), String(record.seq))) break;
        }
        return control.inspect.subscribe((record) => {
          if (feed.open) feed.send(frameOf(record), String(record.seq));
        });
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
