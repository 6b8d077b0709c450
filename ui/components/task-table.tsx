/**
 * A table of tasks: id (to the task page), type, state, attempts and times;
 * on a narrow screen the secondary columns hide, and a compact table (the
 * overview's) has only the main ones, plus the error when asked.
 */

import type { Task } from "../../lib/tasks/task.ts";
import { Badge, Scroll } from "./bits.tsx";
import { Ago, duration } from "./time.tsx";

/**
 * The table, or a line saying there is nothing.
 *
 * @example
 * ```tsx
 * <TaskTable tasks={tasks} now={Date.now()} empty="no failures" />
 * ```
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
    <Scroll>
      <table class="tasks">
        <thead>
          <tr>
            <th>id</th>
            <th>type</th>
            {full ? <th class="wide">queue</th> : null}
            <th>state</th>
            {full ? <th class="num wide">prio</th> : null}
            <th class="num">tries</th>
            <th>created</th>
            {full ? <th class="wide">took</th> : null}
            {error ? <th class="wide">error</th> : null}
          </tr>
        </thead>
        <tbody>
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
              <td class="nowrap">
                <Ago at={t.createdAt} now={now} />
              </td>
              {full
                ? (
                  <td class="wide nowrap">
                    {t.startedAt && t.finishedAt ? duration(t.finishedAt - t.startedAt) : ""}
                  </td>
                )
                : null}
              {error
                ? <td class="wide error small">{t.error?.message.slice(0, 160) ?? ""}</td>
                : null}
            </tr>
          ))}
        </tbody>
      </table>
    </Scroll>
  );
}
