/**
 * Sources (`/un/ui/sources`, `/un/ui/sources/:id`): each source's status
 * with buttons that scan it now and enable or disable it through the JSON
 * API; a source's page adds its (redacted) definition and its scan history
 * (`GET /un/sources/:id/scans`). Refreshed on `scan.*` events, after its buttons
 * and every few seconds.
 */

import { viewSource } from "../../lib/sources/manage.ts";
import { scanHistory } from "../../lib/sources/scan-history.ts";
import { Badge, Fact, JsonBlock, Live, Panel, Table } from "../components/bits.tsx";
import { SourceActions, SourceTable, statusOf } from "../components/source-table.tsx";
import { AgoCell, duration, TimeFact } from "../components/time.tsx";
import type { Page, UiContext } from "../page.ts";

/**
 * Builds the sources page.
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
        <Panel>
          <Live id="source-table" url="/un/ui/sources" everySeconds={5}>{table}</Live>
        </Panel>
      </div>
    ),
    parts: { "source-table": table },
  };
}

/**
 * Builds one source's page, or null when there is no such source.
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
        <Panel title="Status">
          <dl class="facts">
            <Fact name="state">
              {view.enabled
                ? <Badge state="enabled" tone="on" />
                : <Badge state="disabled" tone="warn" />}
            </Fact>
            <Fact name="kind">
              {view.kind} · from {view.origin === "config" ? "un.config.json" : "the API"}
            </Fact>
            <TimeFact name="last scan" at={status.lastScanAt} now={ui.now} />
            <TimeFact name="last change" at={status.lastChangeAt} now={ui.now} />
            <TimeFact name="next poll" at={status.nextPollAt} now={ui.now} />
            <Fact name="failures">{status.failures ?? 0}</Fact>
            <Fact name="last error">{status.lastError ?? "—"}</Fact>
          </dl>
        </Panel>
        <Panel title="Definition">
          <JsonBlock value={view.spec} />
        </Panel>
      </div>
      <Panel title="Manual scans">
        {scans.length === 0 ? <p class="muted">none yet</p> : (
          <Table
            class="scans"
            columns={["when", "by", ["took", "num"], ["changes", "num"], "error"]}
          >
            {scans.map((s) => (
              <tr>
                <AgoCell at={s.at} now={ui.now} />
                <td>{s.requestedBy}</td>
                <td class="num">{duration(s.durationMs)}</td>
                <td class="num">{s.changes ?? "—"}</td>
                <td class="wrap small">{s.error ?? ""}</td>
              </tr>
            ))}
          </Table>
        )}
      </Panel>
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
