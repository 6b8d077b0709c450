/**
 * The processes sharing the store (`GET /un/processes`, as `un processes`):
 * role, where it runs, busy/total workers, and when it was last heard from.
 */

import type { ProcessRecord } from "../../lib/store/types.ts";
import { Badge, Table } from "./bits.tsx";
import { AgoCell } from "./time.tsx";

/** Props of {@link ProcessTable}. */
export interface ProcessTableProps {
  processes: ProcessRecord[];
  /** This process's id, marked in the list. */
  self: string;
  now: number;
  /** Also the task types and resources (the processes page). */
  full?: boolean;
}

/**
 * The table.
 */
export function ProcessTable({ processes, self, now, full }: ProcessTableProps) {
  if (processes.length === 0) return <p class="muted">no process has recorded itself yet</p>;
  return (
    <Table
      class="processes"
      columns={[
        "process",
        "role",
        ["busy / workers", "num"],
        ["host · pid", "wide"],
        ["started", "wide"],
        "seen",
        full ? ["types", "wide"] : null,
        full ? ["resources", "wide"] : null,
      ]}
    >
      {processes.map((p) => (
        <tr data-process={p.id}>
          <td class="id">
            {p.id}
            {p.id === self ? <span class="muted">(this one)</span> : null}
          </td>
          <td>{p.role}</td>
          <td class="num">
            {p.busy} / {p.concurrency}
            {p.paused ? <Badge state="paused" tone="warn" /> : null}
          </td>
          <td class="wide">{p.host} · {p.pid}</td>
          <AgoCell at={p.startedAt} now={now} class="wide" />
          <AgoCell at={p.seenAt} now={now} />
          {full ? <td class="wide wrap small">{(p.types ?? []).join(", ")}</td> : null}
          {full
            ? (
              <td class="wide small">
                {Object.entries(p.resources ?? {}).map(([k, v]) => `${k} ${v}`).join(", ")}
              </td>
            )
            : null}
        </tr>
      ))}
    </Table>
  );
}
