/**
 * The task list (`/un/ui/tasks`): filters by state, queue, type and key, a
 * page at a time, newest first; live on `task.*` events. The filter form is a
 * plain GET form, so the URL keeps the filter (ui.js sends it as a field changes).
 */

import { TASK_STATES } from "../../lib/tasks/task.ts";
import { Live, Panel } from "../components/bits.tsx";
import { TaskTable } from "../components/task-table.tsx";
import {
  MAX_ROWS,
  PAGE_SIZE,
  taskPage,
  type TaskQuery,
  taskQueryString,
} from "../data/task-query.ts";
import type { Page, UiContext } from "../page.ts";

function Filters({ query }: { query: TaskQuery }) {
  return (
    <form class="filters" method="get" action="/un/ui/tasks" data-autosubmit="">
      <label>
        state
        <select name="state">
          <option value="">any</option>
          {TASK_STATES.map((s) => (
            <option key={s} value={s} selected={query.state === s}>{s}</option>
          ))}
        </select>
      </label>
      <label>
        queue <input name="queue" value={query.queue ?? ""} size={10} />
      </label>
      <label>
        type <input name="type" value={query.type ?? ""} size={12} />
      </label>
      <label>
        key <input name="key" value={query.key ?? ""} size={12} />
      </label>
      <button type="submit">Filter</button>
      <a href="/un/ui/tasks">clear</a>
    </form>
  );
}

function Pager(
  { query, hasMore, capped }: { query: TaskQuery; hasMore: boolean; capped: boolean },
) {
  return (
    <nav class="pager">
      {query.page > 1
        ? <a href={`/un/ui/tasks${taskQueryString(query, { page: query.page - 1 })}`}>← newer</a>
        : <span class="muted">← newer</span>}
      <span>page {query.page}</span>
      {hasMore
        ? <a href={`/un/ui/tasks${taskQueryString(query, { page: query.page + 1 })}`}>older →</a>
        : <span class="muted">older →</span>}
      {capped ? <span class="muted small">the list shows the newest {MAX_ROWS} tasks</span> : null}
    </nav>
  );
}

/**
 * Builds the task list.
 */
export async function tasksPage(ui: UiContext, query: TaskQuery): Promise<Page> {
  const { tasks, hasMore, capped } = await taskPage(ui.control.store, query);
  const table = (
    <div>
      <TaskTable tasks={tasks} now={ui.now} empty="no task matches" />
      <Pager query={query} hasMore={hasMore} capped={capped} />
    </div>
  );
  return {
    title: "Tasks",
    page: "tasks",
    live: "task.**",
    body: (
      <div>
        <h1>Tasks</h1>
        <Filters query={query} />
        {query.key
          ? (
            <p class="muted small">
              key filter: among the newest {MAX_ROWS} tasks of the other filters
            </p>
          )
          : null}
        <Panel>
          <Live id="task-list" url={`/un/ui/tasks${taskQueryString(query)}`}>{table}</Live>
          <p class="muted small">{PAGE_SIZE} a page, newest first</p>
        </Panel>
      </div>
    ),
    parts: { "task-list": table },
  };
}
