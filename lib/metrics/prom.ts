/**
 * prom-client, loaded by the first scrape of `/metrics` rather than at start.
 *
 * Importing it costs ~16 MB of resident memory (its index also loads the
 * cluster aggregator, the push gateway and the default collectors, with the
 * Node modules they need), which an idle process that nobody scrapes would
 * carry for nothing. So the metrics count in plain numbers from the start and
 * build their prom-client registry when a scrape first asks for it; every
 * module here imports prom-client for its types only.
 */

import type { Registry } from "prom-client";

/** The prom-client module. */
export type Prom = typeof import("prom-client");

let loading: Promise<Prom> | null = null;

/** prom-client, imported on the first call (a failed import is tried again on the next). */
export function loadProm(): Promise<Prom> {
  loading ??= import("prom-client").catch((err) => {
    loading = null;
    throw err;
  });
  return loading;
}

/** A part of the metrics that counts in plain numbers and puts its metrics on a registry. */
export interface MetricPart {
  /** Registers this part's metrics on `registry` (once), reading its plain numbers at each scrape. */
  register(registry: Registry, prom: Prom): void;
}
