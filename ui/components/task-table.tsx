/**
 * A table of tasks: id (to the task page), type, state, attempts and times;
 * on a narrow screen the secondary columns hide, and a compact table (the
 * overview's) has only the main ones, plus the error when asked.
 */

import type { Task } from "../../lib/tasks/task.ts";
import { Badge, Table } from "./bits.tsx";
import { AgoCell, duration } from "./time.tsx";

/**
 * The table, or a line saying there is nothing.
 */
export function TaskTable(
  { tasks, now, empty, compact, errors }: {
    tasks: Task[];
    now: number;
    empty?: string;
    /** Only id, type, state, tries and created. */
    compact?: boolean;
    /** Show the error column even when compact. */
    errors?: boolean;
  },
) {
  if (tasks.length === 0) return <p class="muted">{empty ?? "no tasks"}</p>;
  const full = !compact;
  const error = full || errors;
  return (
    <Table
      class="tasks"
      columns={[
        "id",
        "type",
        full ? ["queue", "wide"] : null,
        "state",
        full ? ["prio", "num wide"] : null,
        ["tries", "num"],
        "created",
        full ? ["took", "wide"] : null,
        error ? ["error", "wide"] : null,
      ]}
    >
      {tasks.map((t) => (
        <tr data-task-id={t.id}>
          <td class="id">
            <a href={`/un/ui/tasks/${t.id}`}>{t.id}</a>
          </td>
          <td>{t.type}</td>
          {full ? <td class="wide">{t.queue}</td> : null}
          <td>
            <Badge state={t.state} />
          </td>
          {full ? <td class="num wide">{t.priority}</td> : null}
          <td class="num">{t.attempts}/{t.maxAttempts}</td>
          <AgoCell at={t.createdAt} now={now} class="nowrap" />
          {full
            ? (
              <td class="wide nowrap">
                {t.startedAt && t.finishedAt ? duration(t.finishedAt - t.startedAt) : ""}
              </td>
            )
            : null}
          {error ? <td class="wide error small">{t.error?.message.slice(0, 160) ?? ""}</td> : null}
        </tr>
      ))}
    </Table>
  );
}
