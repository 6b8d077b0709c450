/**
 * Sources, under `/un/sources`: list them, add one at run time, remove,
 * enable or disable one.
 *
 * - `GET /un/sources` → `{ sources }`; `GET /un/sources/:id` → `{ source,
 *   manualScans }`: each stored source with its scanner's status (secrets, URL
 *   user info and query values redacted), and for one source the manual scans
 *   it has left in `api.scanLimit`'s window.
 * - `POST /un/sources/add` `{ id?, kind, ...kind keys }` → 201 `{ source }`:
 *   validated like `un.config.json`'s `sources[]` (400 naming the field), its
 *   URL's host checked against `http.allow` and an `fs` path against the file
 *   roots (400 naming the field and the host or path), an id that exists →
 *   409, stored with `origin: "api"`, then `source.created`.
 * - `PATCH /un/sources/:id` `{ ...keys to change }` → `{ source }`: fields
 *   changed in place (`null` resets a key), validated like an add (400 naming
 *   the field; `id` and `kind` cannot change), a changed URL or path admitted
 *   again; the source's state stays, so nothing is announced again; then
 *   `source.updated {previous, current}`, and the scanner restarts with it.
 * - `DELETE /un/sources/:id` → `source.deleted`; `POST /un/sources/:id/enable|disable`
 *   → `source.enabled|disabled`.
 * - `POST /un/sources/:id/process` `{ path, priority? }` → `{ event }`: one
 *   `file.modified` with `forced: true` for one file of an fs source, whatever
 *   its file index says (lib/fs/force.ts); 400 for a path outside the root,
 *   409 for a disabled or non-fs source.
 *
 * The store side of each change is in lib/sources/manage.ts (an add is one
 * atomic step there); routes validate, call it and publish: the runtime reacts to the `source.*` events
 * (here and, through the Redis bridge, in other processes) by starting or
 * stopping the scanner. Config-file sources may be disabled, enabled or
 * deleted at run time too; the answer carries a `note` saying the config file
 * applies again on the next start.
 */

import { Hono } from "hono";
import { z } from "zod";
import { sourceSchema } from "../lib/config/load.ts";
import type { ControlWith } from "../lib/control.ts";
import { type CloudEvent, EVENT_PRIORITIES } from "../lib/events/cloud-event.ts";
import { ConflictError } from "../lib/errors.ts";
import { forcedFileEvent } from "../lib/fs/force.ts";
import { scanAllowance } from "../lib/sources/manual-scan.ts";
import { strictObject } from "../lib/validate.ts";
import { admitSource } from "../lib/sources/admit.ts";
import {
  addSource,
  configNote,
  mustGetSource,
  parseSourceSpec,
  reachChanged,
  setSourceEnabled,
  type SourceChange,
  sourceEvent,
  type SourceView,
  updateSource,
  viewSource,
} from "../lib/sources/manage.ts";
import type { SourceStore, StoredSource } from "../lib/store/types.ts";
import { ask } from "../lib/protocol/ask.ts";
import { answer, describe, problems } from "./describe.ts";
import { eventSchema, sourceViewSchema } from "./schemas.ts";
import { jsonBody, params } from "./validator.ts";

export type { SourceView };

/** What the source routes use of the runtime: the control plane, and of the store its sources. */
type SourcesControl = ControlWith<SourceStore>;

/** Logs the event and delivers it on the bus; resolves once it is logged. */
function publish(control: SourcesControl, event: CloudEvent): Promise<CloudEvent> {
  return ask(control, "event.publish", { event });
}

/** `un.config.json`'s source definition, with `id` optional: a source added without one gets one. */
const [fs, feed, github, http, postgres] = sourceSchema.options;
const addBody = z.discriminatedUnion("kind", [
  fs.partial({ id: true }),
  feed.partial({ id: true }),
  github.partial({ id: true }),
  http.partial({ id: true }),
  postgres.partial({ id: true }),
]);

/** A PATCH: any keys of the source's kind; checked against the merged definition. */
const patchBody = jsonBody(
  z.record(z.string(), z.unknown()).describe(
    'keys of the source\'s kind to change, e.g. `{"interval": "30s"}`; `null` resets a key to its default',
  ),
);

const processBody = jsonBody(strictObject({
  path: z.string().min(1).max(4096).describe("the file, relative to the source's root"),
  priority: z.enum(EVENT_PRIORITIES).optional().describe("the event's priority (default high)"),
}));

/** `GET /un/sources/:id`'s manual scans left in `api.scanLimit`'s window. */
const manualScansSchema = z.object({
  left: z.number().int().describe("manual scans that may still be asked for now"),
  max: z.number().int(),
  windowMs: z.number().int(),
  nextSlotInMs: z.number().int().nullable().describe("when the next slot frees up"),
});

const sourceId = params(z.object({ id: z.string().describe("the source's id") }));

const changedAnswer = z.object({
  source: sourceViewSchema,
  note: z.string().optional().describe(
    "for a config-file source: the file applies again on the next start",
  ),
});

/** The answer of a change: the source, and the config note when there is one. */
async function changed<Extra extends object>(
  control: SourcesControl,
  source: StoredSource,
  change: SourceChange,
  extra: Extra,
): Promise<{ source: SourceView; note?: string } & Extra> {
  const note = configNote(source, change);
  return {
    source: await viewSource(control.store, source),
    ...extra,
    ...(note ? { note } : {}),
  };
}

/**
 * Enables or disables a source: stored and published (`source.enabled|disabled`)
 * unless it already is so.
 */
async function setEnabled(
  control: SourcesControl,
  id: string,
  change: "enabled" | "disabled",
): Promise<{ source: SourceView; note?: string; changed: boolean }> {
  const enabled = change === "enabled";
  const result = await setSourceEnabled(control.store, id, enabled, Date.now());
  if (result.changed) await publish(control, sourceEvent(change, result.source));
  return await changed(control, result.source, change, { changed: result.changed });
}

/**
 * Source routes, relative to `/un/sources`.
 */
export function sourceRoutes(control: SourcesControl) {
  const store = control.store;
  return new Hono()
    .get(
      "/",
      describe("sources", "List the sources with their scanners' status", {
        200: answer("The sources", z.object({ sources: z.array(sourceViewSchema) })),
      }),
      async (c) => {
        const stored = await store.listSources();
        const sources: SourceView[] = await Promise.all(stored.map((s) => viewSource(store, s)));
        return c.json({ sources });
      },
    )
    .get(
      "/:id",
      describe("sources", "One source with its scanner's status", {
        200: answer(
          "The source, and the manual scans it has left",
          z.object({ source: sourceViewSchema, manualScans: manualScansSchema }),
        ),
        ...problems(404),
      }),
      sourceId,
      async (c) => {
        const source = await mustGetSource(store, c.req.valid("param").id);
        const limit = control.config.api.scanLimit;
        return c.json({
          source: await viewSource(store, source),
          manualScans: await scanAllowance(store, source.id, limit, Date.now()),
        });
      },
    )
    .post(
      "/add",
      describe("sources", "Add a source at run time", {
        201: answer("The stored source", z.object({ source: sourceViewSchema })),
        ...problems(400, 409, 413, 503),
      }, {
        description: "Validated like `un.config.json`'s `sources[]`; a URL's host must be " +
          "allowed by `http.allow`, an `fs` path must lie inside the file roots.",
      }),
      jsonBody(addBody, { parse: parseSourceSpec }),
      async (c) => {
        const spec = c.req.valid("json");
        // Config-file sources are the operator's own; one an API caller adds may reach only what is allowed.
        await admitSource(spec, control.config);
        const source = await addSource(store, spec, Date.now());
        await publish(control, sourceEvent("created", source));
        return c.json({ source: await viewSource(store, source) }, 201);
      },
    )
    .patch(
      "/:id",
      describe("sources", "Change a source's fields in place (its state stays)", {
        200: answer("The changed source", changedAnswer),
        ...problems(400, 404, 409, 503),
      }, {
        description: "Merged over the stored definition and validated like an add; `id` and " +
          "`kind` cannot change. Seen items, the file index and cursors stay, so the " +
          "restarted scanner announces nothing again.",
      }),
      sourceId,
      patchBody,
      async (c) => {
        const id = c.req.valid("param").id;
        const patch = c.req.valid("json");
        // A new URL or path is admitted before it is stored, as an added source's is.
        const { previous, current } = await updateSource(
          store,
          id,
          patch,
          Date.now(),
          (u) => reachChanged(u) ? admitSource(u.current.spec, control.config) : Promise.resolve(),
        );
        await publish(control, sourceEvent("updated", current, previous));
        return c.json(await changed(control, current, "updated", {}));
      },
    )
    .delete(
      "/:id",
      describe("sources", "Remove a source (its scanner stops)", {
        200: answer("The removed source", changedAnswer.extend({ deleted: z.literal(true) })),
        ...problems(404, 503),
      }),
      sourceId,
      async (c) => {
        const source = await mustGetSource(store, c.req.valid("param").id);
        // The event first: the runtime stops the scanner, so it writes no state after the delete.
        await publish(control, sourceEvent("deleted", source));
        await store.deleteSource(source.id);
        return c.json(await changed(control, source, "deleted", { deleted: true }));
      },
    )
    .post(
      "/:id/process",
      describe("sources", "Force-process one file of an fs source", {
        200: answer("The published event", z.object({ event: eventSchema })),
        ...problems(400, 404, 409, 503),
      }, {
        description: "One `file.modified` event with `forced: true` for the file, whatever " +
          "the source's file index says; the path must lie inside the source's root.",
      }),
      sourceId,
      processBody,
      async (c) => {
        const source = await mustGetSource(store, c.req.valid("param").id);
        const spec = source.spec;
        if (spec?.kind !== "fs" || !source.enabled) {
          const why = spec?.kind !== "fs" ? `a ${source.kind} source, not fs` : "disabled";
          throw new ConflictError(
            `source ${source.id} is ${why}: only an enabled fs source has files to process`,
            {
              sourceId: source.id,
              kind: source.kind,
            },
          );
        }
        const { path, priority } = c.req.valid("json");
        const event = await forcedFileEvent(spec, path, priority ?? "high");
        return c.json({ event: await publish(control, event) });
      },
    )
    .post(
      "/:id/enable",
      describe("sources", "Enable a source (its scanner starts)", {
        200: answer(
          "The source, and whether it changed",
          changedAnswer.extend({ changed: z.boolean() }),
        ),
        ...problems(404, 503),
      }),
      sourceId,
      async (c) => c.json(await setEnabled(control, c.req.valid("param").id, "enabled")),
    )
    .post(
      "/:id/disable",
      describe("sources", "Disable a source (its scanner stops)", {
        200: answer(
          "The source, and whether it changed",
          changedAnswer.extend({ changed: z.boolean() }),
        ),
        ...problems(404, 503),
      }),
      sourceId,
      async (c) => c.json(await setEnabled(control, c.req.valid("param").id, "disabled")),
    );
}
