/**
 * The task list's filters and pages, over the store's own: every filter is a
 * {@link TaskFilter} field, so a key or correlation id finds a task however
 * old it is, and a page starts after the last task of the page before (the
 * cursor of `GET /un/tasks`, opaque in the URL), so pages never repeat or skip
 * a task while tasks change state.
 */

import type { TaskFilter, TaskPosition, TaskStore } from "../../lib/store/types.ts";
import { decodeTaskCursor, encodeTaskCursor } from "../../lib/store/cursor.ts";
import { type Task, TASK_STATES, type TaskState } from "../../lib/tasks/task.ts";

/** Rows per page. */
export const PAGE_SIZE = 50;

/** The text filters, in the order of the form and of the query string. */
const TEXT_FILTERS = ["queue", "type", "key", "correlationId"] as const;

/** The list's filters and where its page starts, from the page's query string. */
export interface TaskQuery {
  state?: TaskState;
  queue?: string;
  type?: string;
  /** The task's dedupe key. */
  key?: string;
  correlationId?: string;
  /** The page starts after this task (absent: the first page, the newest tasks). */
  after?: TaskPosition;
}

/** A query string read: the query, and what was wrong with its cursor if anything. */
export interface ParsedTaskQuery {
  query: TaskQuery;
  /** Set when the `cursor` was not one this list made; the query then has no `after`. */
  problem?: string;
}

/** One page of tasks. */
export interface TaskPage {
  tasks: Task[];
  /** Where the next page starts; absent on the last page. */
  next?: TaskPosition;
}

/** The message for a cursor that is not one of the list's own. */
export const BAD_CURSOR =
  "This page's cursor is not one the task list made (it may have been cut short or edited).";

/** The longest text filter kept: what the JSON API accepts for a key or correlation id. */
const MAX_TEXT = 1_000;

function text(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed.slice(0, MAX_TEXT) : undefined;
}

/**
 * Filters from a query string. An unknown state is dropped, not an error (a
 * person typed it into the address bar); a bad cursor is reported in
 * `problem` for the page to say so.
 */
export function parseTaskQuery(query: Record<string, string | undefined>): ParsedTaskQuery {
  const parsed: TaskQuery = {};
  const state = TASK_STATES.find((s) => s === query.state);
  if (state) parsed.state = state;
  for (const name of TEXT_FILTERS) {
    const value = text(query[name]);
    if (value) parsed[name] = value;
  }
  if (query.cursor === undefined || query.cursor === "") return { query: parsed };
  const after = decodeTaskCursor(query.cursor);
  return after ? { query: { ...parsed, after } } : { query: parsed, problem: BAD_CURSOR };
}

/**
 * The query string of a list (for links: the first and next pages, the live part).
 *
 * @example
 * ```ts
 * taskQueryString({ state: "failed", key: "k" }, { after: page.next }); // "?state=failed&key=k&cursor=…"
 * ```
 */
export function taskQueryString(query: TaskQuery, change: Partial<TaskQuery> = {}): string {
  const merged = { ...query, ...change };
  const params = new URLSearchParams();
  if (merged.state) params.set("state", merged.state);
  for (const name of TEXT_FILTERS) {
    const value = merged[name];
    if (value) params.set(name, value);
  }
  if (merged.after) params.set("cursor", encodeTaskCursor(merged.after));
  const text = params.toString();
  return text ? `?${text}` : "";
}

/**
 * Reads one page, newest first, from the store's filters.
 */
export async function taskPage(
  store: Pick<TaskStore, "listTasks">,
  query: TaskQuery,
): Promise<TaskPage> {
  const filter: TaskFilter = { ...query, limit: PAGE_SIZE + 1 };
  // One more than a page tells whether a next page exists.
  const rows = await store.listTasks(filter);
  const tasks = rows.slice(0, PAGE_SIZE);
  const last = tasks[tasks.length - 1];
  return rows.length > PAGE_SIZE ? { tasks, next: { createdAt: last.createdAt, id: last.id } } : {
    tasks,
  };
}
