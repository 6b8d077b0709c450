/**
 * Small pieces every page uses: a state badge, a JSON block, a progress bar,
 * a fact line, a panel, a scrolling table with its header and the live part
 * htmx refreshes.
 */

import type { Child } from "hono/jsx";

/**
 * A task (or any) state as a coloured badge.
 */
export function Badge({ state, tone }: { state: string; tone?: string }) {
  return <span class={`badge ${tone ?? state}`} data-state={state}>{state}</span>;
}

/**
 * A JSON value, pretty-printed; "—" for null.
 */
export function JsonBlock({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <p class="muted">—</p>;
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}

/**
 * A 0–1 progress bar with its percentage.
 */
export function Progress({ value }: { value: number }) {
  const percent = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <span>
      <span class="progress" role="progressbar" aria-valuenow={percent}>
        <span style={`width:${percent}%`}></span>
      </span>{" "}
      {percent}%
    </span>
  );
}

/**
 * A table that scrolls sideways on a narrow screen instead of widening the page.
 */
export function Scroll({ children }: { children?: Child }) {
  return <div class="scroll">{children}</div>;
}

/**
 * One `name: value` line of a facts list (`<dl class="facts">`).
 */
export function Fact({ name, children }: { name: string; children?: Child }) {
  return (
    <>
      <dt>{name}</dt>
      <dd>{children}</dd>
    </>
  );
}

/**
 * A panel of a page, with its heading when it has one.
 */
export function Panel({ title, id, children }: { title?: Child; id?: string; children?: Child }) {
  return (
    <section class="panel" id={id}>
      {title === undefined ? null : <h2>{title}</h2>}
      {children}
    </section>
  );
}

/** A column heading: its text, or its text and class (`num`, `wide`); null leaves it out. */
export type Column = string | [label: string, className: string] | null;

/** Props of {@link Table}. */
export interface TableProps {
  class?: string;
  columns: Column[];
  /** Id of the body (rows a script fills in). */
  bodyId?: string;
  children?: Child;
}

/**
 * A table with one heading row, in a {@link Scroll}; its rows are the children.
 *
 * @example
 * ```tsx
 * <Table class="scans" columns={["when", ["took", "num"], full ? "error" : null]}>{rows}</Table>
 * ```
 */
export function Table(props: TableProps) {
  return (
    <Scroll>
      <table class={props.class}>
        <thead>
          <tr>
            {props.columns.map((column) =>
              column === null
                ? null
                : typeof column === "string"
                ? <th key={column}>{column}</th>
                : <th key={column[0]} class={column[1]}>{column[0]}</th>
            )}
          </tr>
        </thead>
        <tbody id={props.bodyId}>{props.children}</tbody>
      </table>
    </Scroll>
  );
}

/** Props of {@link Live}. */
export interface LiveProps {
  id: string;
  /** The URL that renders this part alone (the page's own URL: routes answer htmx with the part). */
  url: string;
  /** Only events whose subject is one of these ids refresh it (a task page: its task). */
  watch?: string[];
  /** Also refresh on a timer (for what no event announces, such as a source's last scan). */
  everySeconds?: number;
  /** Refresh on the page's events too (default); false: on the timer and after actions only. */
  onEvents?: boolean;
  children?: Child;
}

/**
 * A part of a page that is refetched when its events arrive (see ui/assets/ui.js).
 * htmx names it in the `HX-Target` header; the page's route then renders the part alone.
 *
 * @example
 * ```tsx
 * <Live id="queues" url="/un/ui/queues"><QueueTable queues={queues} /></Live>
 * ```
 */
export function Live(props: LiveProps) {
  const trigger = props.everySeconds ? `un-refresh, every ${props.everySeconds}s` : "un-refresh";
  return (
    <div
      id={props.id}
      data-live={props.onEvents === false ? "timer" : "events"}
      data-watch={props.watch?.join(" ")}
      hx-get={props.url}
      hx-trigger={trigger}
      hx-swap="innerHTML"
    >
      {props.children}
    </div>
  );
}
