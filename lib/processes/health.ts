/**
 * What `/health` says, from the facts the runtime gathers: the store's
 * answer, the actors' states, the event buffer. (`/metrics` is lib/metrics/render.ts.)
 */

import type { ActorInfo, HealthReport } from "../control.ts";
import { errorText, StoreFaultError } from "../errors.ts";
import type { Store } from "../store/types.ts";
import type { Throttle } from "../tasks/load-guard.ts";

/** The facts a health report is made of. */
export interface HealthFacts {
  processId: string;
  role: string;
  startedAt: number;
  store: Store;
  actors: ActorInfo[];
  /** Events waiting in this process because the store does not take them. */
  bufferedEvents: number;
  stopping: boolean;
  /** Why the load guard holds the workers; null or absent when it does not (or there is no pool). */
  throttled?: Throttle | null;
}

/** How long a store may take to answer a ping before it counts as unreachable. */
const PING_TIMEOUT_MS = 2_000;

/**
 * The health report: `degraded` with plain reasons when the store does not
 * answer, an actor is down, events are piling up, or the process is stopping.
 * A load guard that holds the workers shows as `throttled` (with its reason)
 * but is no problem: the process does what it was told to under load.
 */
export async function healthReport(facts: HealthFacts): Promise<HealthReport> {
  const problems: string[] = [];
  let storeError: string | undefined;
  try {
    await withTimeout(facts.store.ping(), PING_TIMEOUT_MS, "store ping timed out");
  } catch (err) {
    storeError = errorText(err);
    // A store that answers but is not sound (lost data, out of memory) says why itself.
    problems.push(
      ...(err instanceof StoreFaultError ? err.reasons : [`store unreachable: ${storeError}`]),
    );
  }
  for (const a of facts.actors) {
    if (a.state === "restarting" || a.state === "error") {
      problems.push(`actor ${a.id} is ${a.state}`);
    }
  }
  if (facts.bufferedEvents > 0) {
    problems.push(
      `${facts.bufferedEvents} events buffered in this process until the store takes them`,
    );
  }
  if (facts.stopping) problems.push("stopping");
  return {
    status: problems.length ? "degraded" : "ok",
    processId: facts.processId,
    role: facts.role,
    uptimeMs: Date.now() - facts.startedAt,
    store: {
      kind: facts.store.kind,
      ok: storeError === undefined,
      ...(storeError ? { error: storeError } : {}),
    },
    actors: facts.actors,
    problems,
    throttled: facts.throttled ?? null,
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
