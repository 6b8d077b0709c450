/**
 * The poller of each polling source kind: the one place that knows which
 * factory makes the {@link Poller} of a feed, GitHub or HTTP source.
 */

import type { SourceSpec } from "../config.ts";
import { createFeedPoller } from "./feed.ts";
import { createGithubPoller } from "./github.ts";
import { createHttpPoller } from "./http-monitor.ts";
import type { Poller, SourceState } from "./poller.ts";

/**
 * The poller of a polling source.
 *
 * @example
 * ```ts
 * const poller = createPoller(source, sourceState(store, source.id));
 * ```
 */
export function createPoller(source: SourceSpec, state: SourceState): Poller {
  switch (source.kind) {
    case "feed":
      return createFeedPoller(source, state);
    case "github":
      return createGithubPoller(source, state);
    case "http":
      return createHttpPoller(source, state);
    default:
      throw new Error(`the poll scanner cannot poll a "${source.kind}" source`);
  }
}
