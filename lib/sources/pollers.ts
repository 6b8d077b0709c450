/**
 * The poller of each polling source kind: the one place that knows which
 * factory makes the {@link Poller} of a feed, GitHub or HTTP source, and
 * where their failures lose the secrets of URLs (fetch names the full URL in
 * its errors, and those end up in the status and the log).
 *
 * A source added at run time polls under `http.allow` (`allow`): each poll's
 * URL and every redirect is checked, since what was allowed when the source
 * was added may redirect, or resolve, elsewhere later. Config-file sources
 * are the operator's own and poll unchecked (`allow` null).
 */

import type { SourceSpec } from "../config/load.ts";
import { createFeedPoller } from "./feed.ts";
import { createGithubPoller } from "./github.ts";
import { createHttpPoller } from "./http-monitor.ts";
import { errorText } from "../errors.ts";
import { type Poller, PollError, type SourceState } from "./poller.ts";
import { redactText } from "./redact.ts";

/**
 * The poller of a polling source; `allow` is `http.allow` for a source added
 * at run time, null for a config-file source (not checked).
 */
export function createPoller(
  source: SourceSpec,
  state: SourceState,
  allow: readonly string[] | null,
): Poller {
  switch (source.kind) {
    case "feed":
      return redacting(createFeedPoller(source, state, allow));
    case "github":
      return redacting(createGithubPoller(source, state, allow));
    case "http":
      return redacting(createHttpPoller(source, state, allow));
    default:
      throw new Error(`the poll scanner cannot poll a "${source.kind}" source`);
  }
}

/** The same poller, its errors and problems with URL user info and query values redacted. */
function redacting(poller: Poller): Poller {
  return {
    async poll(signal) {
      try {
        const result = await poller.poll(signal);
        return result.problem ? { ...result, problem: redactText(result.problem) } : result;
      } catch (error) {
        // Stopping or timing out is the caller's own signal: passed on as it is.
        if (signal.aborted) throw error;
        const message = redactText(errorText(error));
        throw error instanceof PollError
          ? new PollError(message, {
            status: error.status ?? undefined,
            retryAfterMs: error.retryAfterMs,
          })
          : new Error(message);
      }
    },
  };
}
