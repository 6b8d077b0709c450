/**
 * Queue depths (`GET /un/queues`): tasks per queue and state, each figure a
 * link to the task list filtered by that queue and state. The last column
 * holds the queue's actions: pause or resume (through the same-origin API),
 * and a paused queue says so there (it may have no task yet).
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
  { queues, compact, paused = new Set() }: {
    queues: Record<string, QueueCounts>;
    compact?: boolean;
    /** Paused queues (shown even before their first task). */
    paused?: ReadonlySet<string>;
  },
) {
  // Compact (the overview): only what needs attention.
  const columns = compact ? COLUMNS.filter((c) => !c.wide) : COLUMNS;
  const names = [...new Set([...Object.keys(queues), ...paused])].sort();
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
            const count = queues[name]?.[c.state] ?? 0;
            const href = `/un/ui/tasks?queue=${encodeURIComponent(name)}&state=${c.state}`;
            return (
              <td class={c.wide ? "num wide" : "num"} data-count={c.state}>
                {count > 0 ? <a href={href}>{count}</a> : <span class="muted">0</span>}
              </td>
            );
          })}
          {compact ? null : <QueueActions name={name} paused={paused.has(name)} />}
        </tr>
      ))}
    </Table>
  );
}

/** A queue's actions cell: its pause state and the button that flips it. */
function QueueActions({ name, paused }: { name: string; paused: boolean }) {
  const api = `/un/queues/${encodeURIComponent(name)}`;
  return (
    <td class="wide actions" data-paused={paused ? "true" : "false"}>
      {paused
        ? (
          <>
            <span class="badge">paused</span>{" "}
            <button type="button" data-api={`${api}/resume`} data-verb="resume">Resume</button>
          </>
        )
        : <button type="button" data-api={`${api}/pause`} data-verb="pause">Pause</button>}
    </td>
  );
}
