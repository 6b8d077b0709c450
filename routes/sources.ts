/**
 * Sources: `GET /un/sources`, each stored source with the status its scanner
 * keeps (last scan, last error, failures). Secrets in a definition (webhook
 * secrets, tokens, passwords in URLs, header values) are redacted: the list is
 * for looking, not for copying credentials out.
 */

import { Hono } from "hono";
import type { ControlPlane } from "../lib/control.ts";
import type { Json } from "../lib/events.ts";
import { STATUS_KEY } from "../lib/scanner.ts";
import type { StoredSource } from "../lib/store/types.ts";

/**
 * A source as `GET /un/sources` shows it.
 *
 * @example
 * ```ts
 * const { sources } = await (await fetch(`${url}/un/sources`)).json() as { sources: SourceView[] };
 * ```
 */
export interface SourceView extends StoredSource {
  /** The scanner's `SourceStatus`, or null before its first scan. */
  status: Json | null;
}

const SECRET_KEY = /secret|token|password|passwd|apikey|api_key/i;
const REDACTED = "[redacted]";

/** Replaces secret values; keeps the shape so users see which keys are set. */
function redact(value: Json, key = ""): Json {
  if (SECRET_KEY.test(key) && value !== null) return REDACTED;
  if (key === "headers" && value !== null && typeof value === "object" && !Array.isArray(value)) {
    return Object.fromEntries(Object.keys(value).map((k) => [k, REDACTED]));
  }
  if (typeof value === "string" && /^[a-z][a-z0-9+.\-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(value)) {
    return value.replace(/^([a-z][a-z0-9+.\-]*:\/\/[^/@:\s]*):[^/@\s]*@/i, `$1:${REDACTED}@`);
  }
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  }
  return value;
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
  app.get("/un/sources", async (c) => {
    const stored = await control.store.listSources();
    const sources: SourceView[] = await Promise.all(stored.map(async (source) => ({
      ...source,
      spec: redact(source.spec) as Record<string, Json>,
      status: await control.store.getSourceState(source.id, STATUS_KEY),
    })));
    return c.json({ sources });
  });
  return app;
}
