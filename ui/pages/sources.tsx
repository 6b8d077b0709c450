/**
 * Sources (`/un/ui/sources`, `/un/ui/sources/:id`): each source's status
 * with buttons that scan it now and enable or disable it through the JSON
 * API; a source's page adds its (redacted) definition and its scan history
 * (`GET /un/sources/:id/scans`). Refreshed on `scan.*` events, after its buttons
 * and every few seconds.
 */

import { viewSource } from "../../lib/sources/manage.ts";
import { scanHistory } from "../../lib/sources/scan-history.ts";
import { Badge, JsonBlock, Live, Scroll } from "../components/bits.tsx";
import { SourceActions, SourceTable, statusOf } from "../components/source-table.tsx";
import { Ago, duration } from "../components/time.tsx";
import type { Page, UiContext } from "../page.ts";

/**
 * Builds the sources page.
 *
 * @example
 * ```ts
 * const page = await sourcesPage(ui);
 * ```
 */
export async function sourcesPage(ui: UiContext): Promise<Page> {
  const store = ui.control.store;
  const views = await Promise.all((await store.listSources()).map((s) => viewSource(store, s)));
  const table = <SourceTable sources={views} now={ui.now} actions />;
  return {
    title: "Sources",
    page: "sources",
    live: "scan.**",
    body: (
      <div>
        <h1>Sources</h1>
        <section class="panel">
          <Live id="source-table" url="/un/ui/sources" everySeconds={5}>{table}</Live>
        </section>
      </div>
    ),
    parts: { "source-table": table },
  };
}

/**
 * Builds one source's page, or null when there is no such source.
 *
 * @example
 * ```ts
 * const page = await sourcePage(ui, "inbox");
 * ```
 */
export async function sourcePage(ui: UiContext, id: string): Promise<Page | null> {
  const store = ui.control.store;
  const stored = await store.getSource(id);
  if (!stored) return null;
  const [view, scans] = await Promise.all([viewSource(store, stored), scanHistory(store, id)]);
  const status = statusOf(view);
  const detail = (
    <div class="stack">
      <SourceActions source={view} />
      <div class="grid">
        <section class="panel">
          <h2>Status</h2>
          <dl class="facts">
            <dt>state</dt>
            <dd>
              {view.enabled
                ? <Badge state="enabled" tone="on" />
                : <Badge state="disabled" tone="warn" />}
            </dd>
            <dt>kind</dt>
            <dd>{view.kind} · from {view.origin === "config" ? "un.config.json" : "the API"}</dd>
            <dt>last scan</dt>
            <dd>
              <Ago at={status.lastScanAt} now={ui.now} />
            </dd>
            <dt>last change</dt>
            <dd>
              <Ago at={status.lastChangeAt} now={ui.now} />
            </dd>
            <dt>next poll</dt>
            <dd>
              <Ago at={status.nextPollAt} now={ui.now} />
            </dd>
            <dt>failures</dt>
            <dd>{status.failures ?? 0}</dd>
            <dt>last error</dt>
            <dd>{status.lastError ?? "—"}</dd>
          </dl>
        </section>
        <section class="panel">
          <h2>Definition</h2>
          <JsonBlock value={view.spec} />
        </section>
      </div>
      <section class="panel">
        <h2>Manual scans</h2>
        {scans.length === 0 ? <p class="muted">none yet</p> : (
          <Scroll>
            <table class="scans">
              <thead>
                <tr>
                  <th>when</th>
                  <th>by</th>
                  <th class="num">took</th>
                  <th class="num">changes</th>
                  <th>error</th>
                </tr>
              </thead>
              <tbody>
                {scans.map((s) => (
                  <tr>
                    <td>
                      <Ago at={s.at} now={ui.now} />
                    </td>
                    <td>{s.requestedBy}</td>
                    <td class="num">{duration(s.durationMs)}</td>
                    <td class="num">{s.changes ?? "—"}</td>
                    <td class="wrap small">{s.error ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
        )}
      </section>
    </div>
  );
  return {
    title: `Source ${id}`,
    page: "sources",
    live: "scan.**",
    body: (
      <div>
        <h1>Source {id}</h1>
        <Live id="source-detail" url={`/un/ui/sources/${encodeURIComponent(id)}`} everySeconds={5}>
          {detail}
        </Live>
      </div>
    ),
    parts: { "source-detail": detail },
  };
}
