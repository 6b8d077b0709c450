/**
 * What a dashboard page gives its route: the frame's settings, the body, and
 * the live parts by id, so a refresh asked by htmx (`HX-Target: <id>`) is
 * answered with that part alone from the same data.
 */

import type { Child } from "hono/jsx";
import type { ControlPlane } from "../lib/control.ts";
import type { Throughput } from "./data/throughput.ts";

/** A rendered page. */
export interface Page {
  title: string;
  /** Key in the navigation (ui/layout.tsx `NAV`). */
  page: string;
  /** Event pattern that refreshes the live parts. */
  live?: string;
  /** Extra scripts (asset names). */
  scripts?: string[];
  /** Extra style sheets (asset names). */
  styles?: string[];
  body: Child;
  /** The answer's status when not 200 (a request the page could not serve as asked). */
  status?: 400 | 404;
  /** Live parts by element id. */
  parts?: Record<string, Child>;
}

/** What page builders read from: the control plane, and the dashboard's own counters. */
export interface UiContext {
  control: ControlPlane;
  throughput: Throughput;
  /** The time the page is rendered at. */
  now: number;
}
