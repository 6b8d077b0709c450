/**
 * The dashboard's static files, all served by un itself (no CDN: our
 * machines have no network at run time). htmx comes from its npm package
 * through Deno's npm resolution; the rest lives in ui/assets/. Text imports
 * put them in the module graph, so `deno compile` embeds them too.
 */

import htmx from "htmx.org/dist/htmx.min.js" with { type: "text" };
import { createHash } from "node:crypto";
import actors from "./assets/actors.js" with { type: "text" };
import events from "./assets/events.js" with { type: "text" };
import favicon from "./assets/favicon.svg" with { type: "text" };
import style from "./assets/style.css" with { type: "text" };
import inspector from "./assets/inspector.css" with { type: "text" };
import parts from "./assets/parts.css" with { type: "text" };
import ui from "./assets/ui.js" with { type: "text" };

/** One served file. */
export interface Asset {
  body: string;
  type: string;
  /** Short content hash, in the URL so a changed file is never taken from a cache. */
  hash: string;
}

const JS = "text/javascript; charset=utf-8";

function asset(body: string, type: string): Asset {
  return { body, type, hash: createHash("sha256").update(body).digest("hex").slice(0, 10) };
}

/**
 * The files by name, as `/un/ui/assets/<name>` serves them.
 */
export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["htmx.min.js", asset(htmx, JS)],
  ["ui.js", asset(ui, JS)],
  ["events.js", asset(events, JS)],
  ["actors.js", asset(actors, JS)],
  ["style.css", asset(style, "text/css; charset=utf-8")],
  ["parts.css", asset(parts, "text/css; charset=utf-8")],
  ["inspector.css", asset(inspector, "text/css; charset=utf-8")],
  ["favicon.svg", asset(favicon, "image/svg+xml")],
]);

/**
 * The URL of an asset, with its hash.
 */
export function assetUrl(name: string): string {
  const found = ASSETS.get(name);
  if (!found) throw new Error(`no UI asset ${name}`);
  return `/un/ui/assets/${name}?v=${found.hash}`;
}

/**
 * An asset's text, for pages that inline it (the inspector is one self-contained page).
 */
export function assetText(name: string): string {
  const found = ASSETS.get(name);
  if (!found) throw new Error(`no UI asset ${name}`);
  return found.body;
}
