/**
 * Sources (`GET /un/sources`, redacted) with their scanner's status: last
 * scan, last error, failures; with `actions`, the buttons that scan now and
 * enable or disable one through the JSON API.
 */

import type { SourceView } from "../../lib/sources/manage.ts";
import { Badge, Table } from "./bits.tsx";
import { Ago, AgoCell } from "./time.tsx";

/** The fields of a scanner's status the dashboard shows (absent before its first scan). */
export interface StatusFields {
  lastScanAt?: number | null;
  lastChangeAt?: number | null;
  lastError?: string | null;
  lastErrorAt?: number | null;
  failures?: number;
  nextPollAt?: number | null;
}

/**
 * A source's status fields, whatever its scanner stored.
 */
export function statusOf(source: SourceView): StatusFields {
  const status = source.status;
  return status !== null && typeof status === "object" && !Array.isArray(status)
    ? status as StatusFields
    : {};
}

/**
 * Buttons for one source: scan now, enable or disable.
 */
export function SourceActions({ source }: { source: SourceView }) {
  const base = `/un/sources/${encodeURIComponent(source.id)}`;
  return (
    <span class="actions">
      <button
        type="button"
        data-api={`${base}/scan`}
        data-body='{"requestedBy":"ui"}'
        data-verb="scan"
        disabled={!source.enabled}
      >
        Scan now
      </button>
      {source.enabled
        ? <button type="button" data-api={`${base}/disable`} data-verb="disable">Disable</button>
        : <button type="button" data-api={`${base}/enable`} data-verb="enable">Enable</button>}
    </span>
  );
}

/**
 * The table.
 */
export function SourceTable(
  { sources, now, actions }: { sources: SourceView[]; now: number; actions?: boolean },
) {
  if (sources.length === 0) {
    return <p class="muted">no sources: add them to un.config.json or POST /un/sources/add</p>;
  }
  return (
    <Table
      class="sources"
      columns={[
        "source",
        ["kind", "wide"],
        "status",
        "last scan",
        "last error",
        actions ? "" : null,
      ]}
    >
      {sources.map((s) => {
        const status = statusOf(s);
        return (
          <tr data-source={s.id}>
            <td>
              <a href={`/un/ui/sources/${encodeURIComponent(s.id)}`}>{s.id}</a>
            </td>
            <td class="wide">{s.kind}</td>
            <td>
              {s.enabled
                ? (
                  <Badge
                    state={status.failures ? "failing" : "enabled"}
                    tone={status.failures ? "bad" : "on"}
                  />
                )
                : <Badge state="disabled" tone="warn" />}
            </td>
            <AgoCell at={status.lastScanAt} now={now} />
            <td class="wrap small">
              {status.lastError
                ? (
                  <span>
                    {status.lastError} (<Ago at={status.lastErrorAt} now={now} />)
                  </span>
                )
                : <span class="muted">—</span>}
            </td>
            {actions
              ? (
                <td>
                  <SourceActions source={s} />
                </td>
              )
              : null}
          </tr>
        );
      })}
    </Table>
  );
}
