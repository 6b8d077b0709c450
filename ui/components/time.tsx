/**
 * Times and durations as people read them: "12s ago", "1.4 s", with the exact
 * ISO time on hover. Rendered on the server; live parts are re-rendered, so
 * "ago" stays current where it matters.
 */

import type { Child } from "hono/jsx";
import { Fact } from "./bits.tsx";

/**
 * A duration in words: 850 → "850 ms", 1400 → "1.4 s", 125000 → "2m 5s".
 */
export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1_000)}s`;
  if (ms < 86_400_000) {
    return `${Math.floor(ms / 3_600_000)}h ${Math.round((ms % 3_600_000) / 60_000)}m`;
  }
  return `${Math.floor(ms / 86_400_000)}d ${Math.round((ms % 86_400_000) / 3_600_000)}h`;
}

/**
 * How long ago (or from now) a moment is: "12s ago", "in 3m 0s".
 */
export function ago(at: number, now = Date.now()): string {
  const delta = now - at;
  if (Math.abs(delta) < 1_000) return "now";
  return delta > 0 ? `${duration(delta)} ago` : `in ${duration(-delta)}`;
}

/**
 * A moment as a `<time>`: relative text, exact time on hover; "—" when absent.
 */
export function Ago({ at, now }: { at: number | null | undefined; now?: number }) {
  if (at === null || at === undefined) return <span class="muted">—</span>;
  const iso = new Date(at).toISOString();
  return <time datetime={iso} title={iso}>{ago(at, now)}</time>;
}

/**
 * A table cell holding an {@link Ago}.
 */
export function AgoCell(
  { at, now, class: className }: { at: number | null | undefined; now?: number; class?: string },
) {
  return (
    <td class={className}>
      <Ago at={at} now={now} />
    </td>
  );
}

/**
 * A {@link Fact} whose value is a moment; with `optional`, nothing at all
 * when there is none (a task without a deadline shows no deadline line).
 */
export function TimeFact(
  props: {
    name: string;
    at: number | null | undefined;
    now?: number;
    optional?: boolean;
    children?: Child;
  },
) {
  if (props.optional && !props.at) return null;
  return (
    <Fact name={props.name}>
      <Ago at={props.at} now={props.now} />
      {props.children}
    </Fact>
  );
}
