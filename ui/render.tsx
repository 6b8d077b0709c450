/**
 * Turns a {@link Page} into the HTML a route answers: the whole document in
 * the shared frame, or, for htmx asking for one live part (`HX-Target`), that
 * part alone.
 */

import type { Context } from "hono";
import { Layout } from "./layout.tsx";
import type { Page } from "./page.ts";

/**
 * Answers a request with a page.
 */
export async function renderPage(
  c: Context,
  page: Page,
  options: { inspect: boolean; status?: 200 | 404 },
): Promise<Response> {
  const part = c.req.header("hx-request") ? c.req.header("hx-target") : undefined;
  if (part && page.parts && Object.hasOwn(page.parts, part)) {
    return c.html(String(await <>{page.parts[part]}</>));
  }
  const document = await (
    <Layout
      title={page.title}
      page={page.page}
      inspect={options.inspect}
      live={page.live}
      scripts={page.scripts}
      styles={page.styles}
      inline={page.page === "actors"}
    >
      {page.body}
    </Layout>
  );
  return c.html(`<!doctype html>\n${document}`, options.status ?? page.status ?? 200);
}

/**
 * The page for a task or source that is not there (removed by retention, or a mistyped id).
 */
export function notFoundPage(what: "task" | "source", id: string): Page {
  return {
    title: "Not found",
    page: `${what}s`,
    body: (
      <div>
        <h1>
          No {what} {id}
        </h1>
        <p>
          It may have been removed by retention. <a href={`/un/ui/${what}s`}>All {what}s</a>
        </p>
      </div>
    ),
  };
}
