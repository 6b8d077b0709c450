/**
 * Queue depths (`GET /un/queues`): tasks per queue and state, each figure a
 * link to the task list filtered by that queue and state. The last column is
 * kept for queue actions (pause, resume) when the API has them.
 */

import type { QueueCounts } from "../../lib/store/types.ts";
import { type Column, Table } from "./bits.tsx";

const COLUMNS: Array<{ state: keyof QueueCounts; wide?: boolean }> = [
  { state: "queued" },
  { state: "running" },
  { state: "scheduled", wide: true },
  { state: "waiting", wide: true },
  { state: "retrying" },
  { state: "failed" },
  { state: "dead" },
  { state: "succeeded", wide: true },
  { state: "cancelled", wide: true },
  { state: "expired", wide: true },
];

/**
 * The table.
 */
export function QueueTable(
  { queues, compact }: { queues: Record<string, QueueCounts>; compact?: boolean },
) {
  // Compact (the overview): only what needs attention.
  const columns = compact ? COLUMNS.filter((c) => !c.wide) : COLUMNS;
  const names = Object.keys(queues).sort();
  if (names.length === 0) {
    return <p class="muted">no queues yet: a queue appears with its first task</p>;
  }
  return (
    <Table
      class="queues"
      columns={[
        "queue",
        ...columns.map((c): Column => [c.state, c.wide ? "num wide" : "num"]),
        compact ? null : ["", "wide"],
      ]}
    >
      {names.map((name) => (
        <tr data-queue={name}>
          <td>
            <a href={`/un/ui/tasks?queue=${encodeURIComponent(name)}`}>{name}</a>
          </td>
          {columns.map((c) => {
            const count = queues[name][c.state];
            const href = `/un/ui/tasks?queue=${encodeURIComponent(name)}&state=${c.state}`;
            return (
              <td class={c.wide ? "num wide" : "num"} data-count={c.state}>
                {count > 0 ? <a href={href}>{count}</a> : <span class="muted">0</span>}
              </td>
            );
          })}
          {compact ? null : <td class="wide actions"></td>}
        </tr>
      ))}
    </Table>
  );
}
