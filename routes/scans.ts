/**
 * Manual scans, under `/un/sources` and `/un/scan`:
 *
 * - `POST /un/sources/:id/scan` `{ requestedBy?, priority? }` (or `X-Un-Requested-By`) →
 *   `{ scan }`: asks the source's scanner to scan now (`source.scan`); the
 *   events it finds get `priority` (default `high`: someone waits). At most
 *   `api.scanLimit.max` per source per `windowMs` (429 with `Retry-After` and
 *   `details.retryAfterMs`); 404 unknown source, 409 disabled, 503 when no
 *   process scans it now, 502 when the scan itself failed. With several
 *   processes, the one that scans the source runs it (lib/sources/manual-scan.ts).
 * - `POST /un/scan` → `{ results: [{ source, ok, scan?, error? }] }`: every
 *   enabled source, each counted against its own limit.
 * - `GET /un/sources/:id/scans` → `{ scans }`: the history, newest first.
 *
 * Each finished scan is also published as `scan.completed`.
 */

import { type Context, Hono } from "hono";
import { z } from "zod";
import type { ControlWith } from "../lib/control.ts";
import { EVENT_PRIORITIES, type EventPriority } from "../lib/events/cloud-event.ts";
import type { Coordination, SourceStore } from "../lib/store/types.ts";
import { ConflictError, NotFoundError, UnavailableError, UnError } from "../lib/errors.ts";
import {
  noScannerHere,
  scanElsewhere,
  scanHere,
  scannerElsewhere,
} from "../lib/sources/manual-scan.ts";
import {
  releaseScan,
  reserveScan,
  scanHistory,
  type ScanRateLimitError,
  type ScanRecord,
} from "../lib/sources/scan-history.ts";
import { strictObject, validate } from "../lib/validate.ts";
import { answer, describe, problems } from "./describe.ts";
import { errorSchema, scanSchema } from "./schemas.ts";
import { jsonBody, params } from "./validator.ts";

const REQUESTER = /^[A-Za-z][A-Za-z0-9._-]{0,31}$/;
const requester = z.string().regex(REQUESTER, {
  error: "must be a short name such as \"api\" or \"cli\" (letters, digits, '.', '_', '-')",
});

/**
 * The body is optional: none is `{}`, and text that is not JSON is checked
 * as the string it is (a 400 saying the body must be a JSON object).
 */
async function optionalJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const scanBody = jsonBody(
  strictObject({
    requestedBy: requester.optional(),
    priority: z.enum(EVENT_PRIORITIES).optional().describe(
      "priority of the events the scan finds (default high)",
    ),
  }),
  { read: optionalJson },
);

/** A manual scan's events: someone is waiting for them. */
const MANUAL_SCAN_PRIORITY: EventPriority = "high";

/** Who asked: the `X-Un-Requested-By` header, else the body's `requestedBy`, else "api". */
function requestedBy(c: Context, body: { requestedBy?: string }): string {
  const header = c.req.header("x-un-requested-by");
  if (header !== undefined) return validate(requester, header, "X-Un-Requested-By");
  return body.requestedBy ?? "api";
}

/** The header that names who asked, for the OpenAPI document. */
const requesterHeader = {
  in: "header" as const,
  name: "X-Un-Requested-By",
  description: 'who asked, e.g. "cli" (wins over the body\'s `requestedBy`)',
  schema: { type: "string" as const },
};

/**
 * Scans one source now, here or on the process that scans it, and records
 * it; throws 404/409/429/503 as above. A scan that ran and failed is returned
 * with its `error` set.
 */
async function scanOne(
  control: ControlWith<SourceStore & Coordination>,
  id: string,
  by: string,
  priority: EventPriority,
): Promise<ScanRecord> {
  const store = control.store;
  const source = await store.getSource(id);
  if (!source) throw new NotFoundError("source", id);
  if (!source.enabled) {
    throw new ConflictError(
      `source ${id} is disabled; enable it first (POST /un/sources/${id}/enable)`,
      { sourceId: id },
    );
  }
  const scan = { sourceId: id, requestedBy: by, at: Date.now(), priority };
  await reserveScan(store, id, control.config.api.scanLimit, scan.at);
  try {
    return await scanHere(control, scan);
  } catch (err) {
    if (!noScannerHere(err, id)) throw err;
  }
  const holder = await scannerElsewhere(control, id);
  if (holder !== null) return await scanElsewhere(control, scan, holder);
  // It never reached a scanner: it does not count against the limit.
  await releaseScan(store, id, scan.at);
  throw new UnavailableError(
    `no process scans source ${id} right now (a role without scanners, a scanner restarting ` +
      `after a crash, or a takeover in progress); try again, or start a process with ` +
      `--role scanner or all`,
    { sourceId: id },
  );
}

function rateLimited(c: Context, err: unknown): void {
  if (err instanceof UnError && err.status === 429) {
    const ms = (err as ScanRateLimitError).retryAfterMs;
    c.header("Retry-After", String(Math.max(1, Math.ceil(ms / 1000))));
  }
}

const sourceId = params(z.object({ id: z.string().describe("the source's id") }));

/**
 * Scan routes of one source, relative to `/un/sources`.
 */
export function scanRoutes(control: ControlWith<SourceStore & Coordination>) {
  return new Hono()
    .post(
      "/:id/scan",
      describe("sources", "Scan a source now", {
        200: answer("The scan", z.object({ scan: scanSchema })),
        ...problems(400, 404, 409, 429, 502, 503),
      }, { parameters: [requesterHeader] }),
      sourceId,
      scanBody,
      async (c) => {
        const body = c.req.valid("json");
        const by = requestedBy(c, body);
        const { id } = c.req.valid("param");
        try {
          const scan = await scanOne(control, id, by, body.priority ?? MANUAL_SCAN_PRIORITY);
          if (scan.error !== null) {
            throw new UnError("scan_failed", `scan of source ${id} failed: ${scan.error}`, 502, {
              scan,
            });
          }
          return c.json({ scan });
        } catch (err) {
          rateLimited(c, err);
          throw err;
        }
      },
    )
    .get(
      "/:id/scans",
      describe("sources", "A source's manual scans, newest first", {
        200: answer("The scans", z.object({ scans: z.array(scanSchema) })),
        ...problems(404),
      }),
      sourceId,
      async (c) => {
        const { id } = c.req.valid("param");
        if (!(await control.store.getSource(id))) throw new NotFoundError("source", id);
        return c.json({ scans: await scanHistory(control.store, id) });
      },
    );
}

/**
 * Scanning every enabled source, relative to `/un/scan`.
 */
export function scanAllRoutes(control: ControlWith<SourceStore & Coordination>) {
  return new Hono().post(
    "/",
    describe("sources", "Scan every enabled source now", {
      200: answer(
        "One result per source; a refused or failed one has `ok: false`",
        z.object({
          results: z.array(z.object({
            source: z.string(),
            ok: z.boolean(),
            scan: scanSchema.optional(),
            error: errorSchema.shape.error.optional(),
          })),
        }),
      ),
      ...problems(400),
    }, { parameters: [requesterHeader] }),
    scanBody,
    async (c) => {
      const body = c.req.valid("json");
      const by = requestedBy(c, body);
      const priority = body.priority ?? MANUAL_SCAN_PRIORITY;
      const sources = (await control.store.listSources()).filter((s) => s.enabled);
      const results = await Promise.all(sources.map(async (source) => {
        try {
          const scan = await scanOne(control, source.id, by, priority);
          return { source: source.id, ok: scan.error === null, scan };
        } catch (err) {
          if (!(err instanceof UnError)) throw err;
          return { source: source.id, ok: false, error: err.toJSON().error };
        }
      }));
      return c.json({ results });
    },
  );
}
