/**
 * Small pieces every page uses: a state badge, a JSON block, a progress bar,
 * a scrolling table frame and the live part htmx refreshes.
 */

import type { Child } from "hono/jsx";

/**
 * A task (or any) state as a coloured badge.
 *
 * @example
 * ```tsx
 * <Badge state="failed" />
 * ```
 */
export function Badge({ state, tone }: { state: string; tone?: string }) {
  return <span class={`badge ${tone ?? state}`} data-state={state}>{state}</span>;
}

/**
 * A JSON value, pretty-printed; "—" for null.
 *
 * @example
 * ```tsx
 * <JsonBlock value={task.payload} />
 * ```
 */
export function JsonBlock({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <p class="muted">—</p>;
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}

/**
 * A 0–1 progress bar with its percentage.
 *
 * @example
 * ```tsx
 * <Progress value={0.4} />
 * ```
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
 *
 * @example
 * ```tsx
 * <Scroll><table>...</table></Scroll>
 * ```
 */
export function Scroll({ children }: { children?: Child }) {
  return <div class="scroll">{children}</div>;
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
