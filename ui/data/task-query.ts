/**
 * The task list's filters and pages, over what the store offers:
 * `listTasks({ state, queue, type, limit })`, newest first, without a cursor
 * or a key filter. A page is the tail of a longer read (page n reads
 * n × {@link PAGE_SIZE} + 1 rows), so the list reaches the newest
 * {@link MAX_ROWS} tasks of a filter; a key filter looks among those.
 */

import type { Store } from "../../lib/store/types.ts";
import { type Task, TASK_STATES, type TaskState } from "../../lib/tasks/task.ts";

/** Rows per page. */
export const PAGE_SIZE = 50;
/** The most rows one listing reads (the JSON API's own limit). */
export const MAX_ROWS = 1_000;

/** The list's filters, from the page's query string. */
export interface TaskQuery {
  state?: TaskState;
  queue?: string;
  type?: string;
  key?: string;
  /** 1-based. */
  page: number;
}

/** One page of tasks. */
export interface TaskPage {
  tasks: Task[];
  hasMore: boolean;
  /** The list stops here: the next page lies beyond {@link MAX_ROWS}. */
  capped: boolean;
}

function text(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed.slice(0, 200) : undefined;
}

/**
 * Filters from a query string; an unknown state or a bad page number is dropped, not an error
 * (a person typed it into the address bar).
 */
export function parseTaskQuery(query: Record<string, string | undefined>): TaskQuery {
  const state = TASK_STATES.find((s) => s === query.state);
  const page = Number(query.page);
  const maxPage = Math.ceil(MAX_ROWS / PAGE_SIZE);
  return {
    ...(state ? { state } : {}),
    ...(text(query.queue) ? { queue: text(query.queue) } : {}),
    ...(text(query.type) ? { type: text(query.type) } : {}),
    ...(text(query.key) ? { key: text(query.key) } : {}),
    page: Number.isInteger(page) && page >= 1 ? Math.min(page, maxPage) : 1,
  };
}

/**
 * The query string of a filter (for links: other pages, the live part).
 *
 * @example
 * ```ts
 * taskQueryString({ state: "failed", page: 1 }, { page: 2 }); // "?state=failed&page=2"
 * ```
 */
export function taskQueryString(query: TaskQuery, change: Partial<TaskQuery> = {}): string {
  const merged = { ...query, ...change };
  const params = new URLSearchParams();
  for (const key of ["state", "queue", "type", "key"] as const) {
    if (merged[key]) params.set(key, merged[key]!);
  }
  if (merged.page > 1) params.set("page", String(merged.page));
  const text = params.toString();
  return text ? `?${text}` : "";
}

/**
 * Reads one page.
 */
export async function taskPage(store: Store, query: TaskQuery): Promise<TaskPage> {
  const { state, queue, type, key, page } = query;
  const end = page * PAGE_SIZE;
  const filter = { state, queue, type };
  const rows = key
    ? (await store.listTasks({ ...filter, limit: MAX_ROWS })).filter((t) => t.key === key)
    : await store.listTasks({ ...filter, limit: Math.min(end + 1, MAX_ROWS) });
  return {
    tasks: rows.slice(end - PAGE_SIZE, end),
    hasMore: rows.length > end,
    capped: rows.length <= end && end >= MAX_ROWS,
  };
}
