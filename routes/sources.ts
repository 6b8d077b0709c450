/**
 * Sources: list them, add one at run time, remove, enable or disable one.
 *
 * - `GET /un/sources` → `{ sources }`; `GET /un/sources/:id` → `{ source }`:
 *   each stored source with its scanner's status; secrets, URL user info and
 *   query values redacted.
 * - `POST /un/sources/add` `{ id?, kind, ...kind keys }` → 201 `{ source }`:
 *   validated like `un.config.json`'s `sources[]` (400 naming the field), its
 *   URL's host checked against `http.allow` and an `fs` path against the file
 *   roots (400 naming the field and the host or path), an id that exists →
 *   409, stored with `origin: "api"`, then `source.created`.
 * - `DELETE /un/sources/:id` → `source.deleted`; `POST /un/sources/:id/enable|disable`
 *   → `source.enabled|disabled`.
 *
 * Routes only store and publish: the runtime reacts to the `source.*` events
 * (here and, through the Redis bridge, in other processes) by starting or
 * stopping the scanner. Config-file sources may be disabled, enabled or
 * deleted at run time too; the answer carries a `note` saying the config file
 * applies again on the next start.
 */

import { Hono } from "hono";
import type { ControlPlane } from "../lib/control.ts";
import { ConflictError, NotFoundError } from "../lib/errors.ts";
import type { CloudEvent } from "../lib/events.ts";
import { admitSource } from "../lib/sources/admit.ts";
import {
  apiSource,
  configNote,
  parseSourceSpec,
  type SourceChange,
  sourceEvent,
  type SourceView,
  viewSource,
  withEnabled,
} from "../lib/sources/manage.ts";
import type { StoredSource } from "../lib/store/types.ts";
import { askRuntime } from "./ask.ts";
import { readJson } from "./body.ts";

export type { SourceView };

/** Logs the event and delivers it on the bus; resolves once it is logged. */
function publish(control: ControlPlane, event: CloudEvent): Promise<CloudEvent> {
  return askRuntime<CloudEvent>(control, (reply) => ({ type: "event.publish", event, reply }));
}

async function mustGet(control: ControlPlane, id: string): Promise<StoredSource> {
  const source = await control.store.getSource(id);
  if (!source) throw new NotFoundError("source", id);
  return source;
}

/** The answer of a change: the source, and the config note when there is one. */
async function changed(
  control: ControlPlane,
  source: StoredSource,
  change: SourceChange,
  extra: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const note = configNote(source, change);
  return {
    source: await viewSource(control.store, source),
    ...extra,
    ...(note ? { note } : {}),
  };
}

/**
 * Source routes.
 *
 * @example
 * ```ts
 * app.route("/", sourceRoutes(control));
 * ```
 */
export function sourceRoutes(control: ControlPlane): Hono {
  const app = new Hono();
  const store = control.store;

  app.get("/un/sources", async (c) => {
    const stored = await store.listSources();
    const sources: SourceView[] = await Promise.all(stored.map((s) => viewSource(store, s)));
    return c.json({ sources });
  });

  app.get("/un/sources/:id", async (c) => {
    const source = await mustGet(control, c.req.param("id"));
    return c.json({ source: await viewSource(store, source) });
  });

  app.post("/un/sources/add", async (c) => {
    const spec = parseSourceSpec(await readJson(c));
    // Config-file sources are the operator's own; one an API caller adds may reach only what is allowed.
    await admitSource(spec, control.config);
    const existing = await store.getSource(spec.id);
    if (existing) {
      throw new ConflictError(
        `source ${spec.id} already exists (origin ${existing.origin}); choose another id, ` +
          `or remove it first with DELETE /un/sources/${spec.id}`,
        { field: "id", value: spec.id },
      );
    }
    const source = apiSource(spec, Date.now());
    await store.putSource(source);
    await publish(control, sourceEvent("created", source));
    return c.json({ source: await viewSource(store, source) }, 201);
  });

  app.delete("/un/sources/:id", async (c) => {
    const source = await mustGet(control, c.req.param("id"));
    // The event first: the runtime stops the scanner, so it writes no state after the delete.
    await publish(control, sourceEvent("deleted", source));
    await store.deleteSource(source.id);
    return c.json(await changed(control, source, "deleted", { deleted: true }));
  });

  for (const change of ["enabled", "disabled"] as const) {
    const verb = change === "enabled" ? "enable" : "disable";
    app.post(`/un/sources/:id/${verb}`, async (c) => {
      const source = await mustGet(control, c.req.param("id"));
      const enabled = change === "enabled";
      // Already so: nothing to store and no event (the scanner is left as it is).
      if (source.enabled === enabled) {
        return c.json(await changed(control, source, change, { changed: false }));
      }
      const next = withEnabled(source, enabled, Date.now());
      await store.putSource(next);
      await publish(control, sourceEvent(change, next));
      return c.json(await changed(control, next, change, { changed: true }));
    });
  }
  return app;
}
