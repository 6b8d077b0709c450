/**
 * The task list (`/un/ui/tasks`): filters by state, queue, type, key and
 * correlation id, a page at a time, newest first, through the store's own
 * filters and cursor; live on `task.*` events. The filter form is a plain GET
 * form, so the URL keeps the filter (ui.js sends it as a field changes) and a
 * new filter starts on the first page; the next page's link carries the cursor.
 */

import { TASK_STATES } from "../../lib/tasks/task.ts";
import { Live, Panel } from "../components/bits.tsx";
import { TaskTable } from "../components/task-table.tsx";
import {
  PAGE_SIZE,
  type ParsedTaskQuery,
  taskPage,
  type TaskQuery,
  taskQueryString,
} from "../data/task-query.ts";
import type { Page, UiContext } from "../page.ts";

const LIST = "/un/ui/tasks";

function TextFilter(
  { name, label, query, size }: {
    name: "queue" | "type" | "key" | "correlationId";
    label: string;
    query: TaskQuery;
    size: number;
  },
) {
  return (
    <label>
      {label} <input name={name} value={query[name] ?? ""} size={size} />
    </label>
  );
}

function Filters({ query }: { query: TaskQuery }) {
  return (
    <form class="filters" method="get" action={LIST} data-autosubmit="">
      <label>
        state
        <select name="state">
          <option value="">any</option>
          {TASK_STATES.map((s) => (
            <option key={s} value={s} selected={query.state === s}>{s}</option>
          ))}
        </select>
      </label>
      <TextFilter name="queue" label="queue" query={query} size={10} />
      <TextFilter name="type" label="type" query={query} size={12} />
      <TextFilter name="key" label="key" query={query} size={12} />
      <TextFilter name="correlationId" label="correlation id" query={query} size={12} />
      <button type="submit">Filter</button>
      <a href={LIST}>clear</a>
    </form>
  );
}

/**
 * The first page of the same filters, and the next one when more tasks
 * follow; nothing when the list fits on one page.
 */
function Pager({ query, next }: { query: TaskQuery; next: TaskQuery["after"] }) {
  if (!query.after && !next) return null;
  const first = `${LIST}${taskQueryString(query, { after: undefined })}`;
  return (
    <nav class="pager">
      {query.after
        ? <a href={first} rel="first">← first page</a>
        : <span class="muted">first page</span>}
      {next
        ? <a href={`${LIST}${taskQueryString(query, { after: next })}`} rel="next">next page →</a>
        : <span class="muted">last page</span>}
    </nav>
  );
}

/**
 * Builds the task list; a bad cursor gives the filters and a message instead
 * of the list, answered with status 400.
 */
export async function tasksPage(
  ui: UiContext,
  { query, problem }: ParsedTaskQuery,
): Promise<Page> {
  const head = (
    <>
      <h1>Tasks</h1>
      <Filters query={query} />
    </>
  );
  if (problem) {
    return {
      title: "Tasks",
      page: "tasks",
      status: 400,
      body: (
        <div>
          {head}
          <Panel>
            <div class="error-box" role="alert" id="task-list-problem">
              <p>{problem}</p>
              <p>
                <a href={`${LIST}${taskQueryString(query)}`}>Start from the first page</a>{" "}
                of this list.
              </p>
            </div>
          </Panel>
        </div>
      ),
    };
  }
  const { tasks, next } = await taskPage(ui.control.store, query);
  const table = (
    <div>
      <TaskTable tasks={tasks} now={ui.now} empty="no task matches" />
      <Pager query={query} next={next} />
    </div>
  );
  return {
    title: "Tasks",
    page: "tasks",
    live: "task.**",
    body: (
      <div>
        {head}
        <Panel>
          <Live id="task-list" url={`${LIST}${taskQueryString(query)}`}>{table}</Live>
          <p class="muted small">{PAGE_SIZE} a page, newest first</p>
        </Panel>
      </div>
    ),
    parts: { "task-list": table },
  };
}
