/**
 * The frame every dashboard page shares: head, navigation, the live-status
 * line, the flash line that action buttons report into, and the scripts
 * (htmx from npm, ui.js). Pages are server-rendered with hono/jsx.
 */

import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import { assetText, assetUrl } from "./assets.ts";

/** The pages in the navigation, by key. */
export const NAV: ReadonlyArray<{ key: string; href: string; label: string }> = [
  { key: "overview", href: "/un/ui", label: "Overview" },
  { key: "tasks", href: "/un/ui/tasks", label: "Tasks" },
  { key: "queues", href: "/un/ui/queues", label: "Queues" },
  { key: "sources", href: "/un/ui/sources", label: "Sources" },
  { key: "events", href: "/un/ui/events", label: "Events" },
  { key: "processes", href: "/un/ui/processes", label: "Processes" },
  { key: "actors", href: "/un/ui/actors", label: "Actors" },
];

/** Props of {@link Layout}. */
export interface LayoutProps {
  title: string;
  /** Key of the page in {@link NAV}. */
  page: string;
  /** Whether the actor inspector is served (`api.inspect`): its link shows only then. */
  inspect: boolean;
  /** Event pattern whose events refresh the page's live parts (`task.**`); none: no stream. */
  live?: string;
  /** Scripts of the page (asset names) after htmx and ui.js. */
  scripts?: string[];
  /** Style sheets of the page (asset names) after style.css and parts.css; inlined as they are. */
  styles?: string[];
  /** Inline everything (no `<script src>`): the inspector is one self-contained page. */
  inline?: boolean;
  children?: Child;
}

/**
 * The page frame.
 *
 * @example
 * ```tsx
 * <Layout title="Queues" page="queues" inspect live="task.**"><QueueTable /></Layout>
 * ```
 */
export function Layout(props: LayoutProps) {
  const scripts = props.inline
    ? props.scripts ?? []
    : ["htmx.min.js", "ui.js", ...props.scripts ?? []];
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content='{"includeIndicatorStyles":false}' />
        <title>{props.title} · un</title>
        {["style.css", "parts.css", ...props.styles ?? []].map((name) => (
          <style key={name}>{raw(assetText(name))}</style>
        ))}
      </head>
      <body data-live={props.live}>
        <header class="top">
          <a class="brand" href="/un/ui">un</a>
          <nav>
            {NAV.filter((n) => n.key !== "actors" || props.inspect).map((n) => (
              <a href={n.href} class={n.key === props.page ? "here" : undefined}>{n.label}</a>
            ))}
          </nav>
          <span id={props.inline ? "status" : "live-status"}>
            {props.live || props.inline ? "connecting…" : ""}
          </span>
        </header>
        <main>
          <div id="flash" role="status"></div>
          {props.children}
        </main>
        {scripts.map((name) =>
          props.inline
            ? <script key={name}>{raw(assetText(name))}</script>
            : <script key={name} src={assetUrl(name)}></script>
        )}
      </body>
    </html>
  );
}
