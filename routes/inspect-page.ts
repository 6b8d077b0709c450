/**
 * The inspector page: one self-contained HTML document (no external assets;
 * our machines have no network) showing the actors and a live table of the
 * messages the supervisor routes, fed by `GET /un/inspect/stream`.
 */

import type { ActorInfo } from "../lib/control.ts";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
}

function actorRows(actors: ActorInfo[]): string {
  return actors.map((a) =>
    `<tr><td>${escapeHtml(a.id)}</td><td>${escapeHtml(a.kind)}</td><td>${
      escapeHtml(a.state)
    }</td>` +
    `<td>${a.restarts}</td><td>${escapeHtml(a.lastError ?? "")}</td></tr>`
  ).join("");
}

// The script builds rows with textContent only, so message summaries cannot inject markup.
const SCRIPT = `
const rows = document.getElementById("messages");
const status = document.getElementById("status");
const filter = document.getElementById("filter");
let paused = false;
document.getElementById("pause").onclick = (e) => { paused = !paused; e.target.textContent = paused ? "resume" : "pause"; };
function cell(tr, text) { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); }
const source = new EventSource("inspect/stream");
source.onopen = () => { status.textContent = "live"; };
source.onerror = () => { status.textContent = "disconnected; retrying"; };
// Sent when this page fell too far behind; the browser reconnects by itself.
source.addEventListener("overflow", () => { status.textContent = "fell behind; reconnecting"; });
source.onmessage = (e) => {
  if (paused) return;
  const r = JSON.parse(e.data);
  const f = filter.value.trim();
  if (f && !(r.type + " " + r.from + " " + r.to + " " + (r.summary || "")).includes(f)) return;
  const tr = document.createElement("tr");
  cell(tr, r.seq); cell(tr, new Date(r.at).toISOString().slice(11, 23)); cell(tr, r.from);
  cell(tr, r.to); cell(tr, r.type); cell(tr, r.summary || "");
  rows.prepend(tr);
  while (rows.rows.length > 500) rows.deleteRow(rows.rows.length - 1);
};
async function refreshActors() {
  try {
    const res = await fetch("inspect/actors");
    if (!res.ok) return;
    const { actors } = await res.json();
    const body = document.getElementById("actors");
    body.replaceChildren(...actors.map((a) => {
      const tr = document.createElement("tr");
      for (const v of [a.id, a.kind, a.state, a.restarts, a.lastError || ""]) cell(tr, v);
      return tr;
    }));
  } catch { /* the next refresh tries again */ }
}
setInterval(refreshActors, 2000);
`;

/**
 * Renders the inspector page.
 *
 * @example
 * ```ts
 * c.html(inspectPage(control.inspect.actors()));
 * ```
 */
export function inspectPage(actors: ActorInfo[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>un inspector</title>
<style>
body { font: 13px/1.4 ui-monospace, monospace; margin: 1.5em; color: #222; }
h1 { font-size: 16px; } h2 { font-size: 14px; margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #ddd; padding: 2px 8px; text-align: left; white-space: nowrap; }
th { background: #f4f4f4; } #status { color: #666; }
</style></head>
<body>
<h1>un inspector <span id="status">connecting</span></h1>
<h2>Actors</h2>
<table><thead><tr><th>id</th><th>kind</th><th>state</th><th>restarts</th><th>last error</th></tr></thead>
<tbody id="actors">${actorRows(actors)}</tbody></table>
<h2>Messages <input id="filter" placeholder="filter"> <button id="pause">pause</button></h2>
<table><thead><tr><th>#</th><th>time</th><th>from</th><th>to</th><th>type</th><th>summary</th></tr></thead>
<tbody id="messages"></tbody></table>
<script>${SCRIPT}</script>
</body></html>`;
}
