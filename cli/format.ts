/**
 * Human output: borderless tables (cli-table3, no colours so output pipes and
 * greps cleanly), ages and durations, short one-line summaries of JSON.
 */

import Table from "cli-table3";
import { formatDuration } from "../lib/duration.ts";

const BORDERLESS = {
  top: "",
  "top-mid": "",
  "top-left": "",
  "top-right": "",
  bottom: "",
  "bottom-mid": "",
  "bottom-left": "",
  "bottom-right": "",
  left: "",
  "left-mid": "",
  mid: "",
  "mid-mid": "",
  right: "",
  "right-mid": "",
  middle: "  ",
};

/**
 * Renders rows under a header, columns aligned.
 */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  const t = new Table({
    head,
    chars: BORDERLESS,
    style: { head: [], border: [], "padding-left": 0, "padding-right": 0 },
  });
  t.push(...rows.map((row) => row.map(String)));
  // cli-table3 pads the last column too; trailing spaces only get in the way of scripts.
  return t.toString().split("\n").map((line) => line.trimEnd()).join("\n");
}

/**
 * Time since an epoch-ms instant, short ("3.2s", "5.0m").
 */
export function age(since: number | null, now = Date.now()): string {
  return since === null ? "-" : formatDuration(Math.max(0, now - since));
}

/**
 * JSON on one line, cut to `max` characters.
 */
export function brief(value: unknown, max = 60): string {
  if (value === undefined || value === null) return "-";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * An epoch-ms time as ISO text, or "-".
 */
export function when(ms: number | null): string {
  return ms === null ? "-" : new Date(ms).toISOString();
}

/**
 * Prints a value as pretty JSON (the `--json` output).
 */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/**
 * Prints a list command's answer: the whole body as JSON with `--json`,
 * else `none` when there are no rows, else a table.
 */
export function printList<T>(
  body: unknown,
  items: readonly T[],
  view: { json: boolean; none: string; head: string[]; row(item: T): Array<string | number> },
): void {
  if (view.json) printJson(body);
  else if (items.length === 0) console.log(view.none);
  else console.log(table(view.head, items.map(view.row)));
}
