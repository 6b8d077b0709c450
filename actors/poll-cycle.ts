/**
 * One cycle of the poll scanner: poll, publish the changes to the supervisor
 * and wait until each is logged, save what the poller learned, then record the
 * {@link SourceStatus} and decide when to poll next (interval, backoff, or the
 * server's own wait). Kept apart from the state machine so each stays small.
 */

import type { ActorSystem, AnyActorRef } from "xstate";
import type { SourceSpec } from "../lib/config/load.ts";
import type { RuntimeDeps } from "../lib/protocol/deps.ts";
import type { Coordination, SourceStore } from "../lib/store/types.ts";
import { errorText } from "../lib/errors.ts";
import type { CloudEvent, EventPriority } from "../lib/events/cloud-event.ts";
import { ask } from "../lib/protocol/ask.ts";
import { type SourceStatus, STATUS_KEY } from "../lib/sources/scanner.ts";
import { reportScan } from "../lib/metrics/scan-times.ts";
import { type ScanLease, stillHeld } from "../lib/sources/lease.ts";
import {
  backoffDelay,
  changeEvent,
  type Poller,
  PollError,
  type SourceState,
} from "../lib/sources/poller.ts";

/** The actor system as `fromPromise` hands it over (XState does not export its alias). */
// deno-lint-ignore no-explicit-any
type AnyActorSystem = ActorSystem<any>;

/** Longest one poll may take before it counts as failed. */
export const POLL_TIMEOUT_MS = 30_000;

/** What a cycle needs: the source, its poller and state, and the status so far. */
export interface PollCycleInput {
  deps: RuntimeDeps<SourceStore & Coordination>;
  source: SourceSpec;
  poller: Poller;
  state: SourceState;
  intervalMs: number;
  /** In a cluster, the lease this scanner runs under; null on its own. */
  lease: ScanLease | null;
  status: SourceStatus;
  /** This poll's events' priority (a manual scan's); absent: the source's. */
  priority?: EventPriority;
}

/** What one poll cycle ended with. */
export type PollCycleOutput =
  | { ok: true; changes: number; status: SourceStatus; delayMs: number }
  | { ok: false; error: unknown; status: SourceStatus; delayMs: number };

/** This scanner's source lease is no longer held under its fence. */
class LeaseMoved extends Error {
  constructor(readonly lease: ScanLease) {
    super(`the lease ${lease.name} is no longer held under fence ${lease.fence}`);
  }
}

/** Longest wait for the supervisor to log one event. */
const PUBLISH_TIMEOUT_MS = 10_000;

/**
 * Sends every event to the supervisor (in order) and waits until each is
 * logged; gives up when the actor stops (`signal`), so no timer outlives it.
 */
async function publish(
  system: AnyActorSystem,
  events: CloudEvent[],
  signal: AbortSignal,
): Promise<void> {
  if (events.length === 0) return;
  const supervisor: AnyActorRef | undefined = system.get("supervisor");
  if (!supervisor) throw new Error("no supervisor to publish events to");
  const options = { timeoutMs: PUBLISH_TIMEOUT_MS, signal };
  await Promise.all(events.map((event) => ask(supervisor, "event.publish", { event }, options)));
}

/**
 * One poll, publish, commit and status update. Never throws: a failure is
 * in the output (and in the saved status).
 */
export async function runPollCycle(
  context: PollCycleInput,
  signal: AbortSignal,
  system: AnyActorSystem,
): Promise<PollCycleOutput> {
  const { deps, source, poller, state, intervalMs, lease } = context;
  const startedAt = deps.now();
  const timeout = new AbortController();
  const timer = setTimeout(
    () => timeout.abort(new PollError(`poll timed out after ${POLL_TIMEOUT_MS}ms`)),
    POLL_TIMEOUT_MS,
  );
  let output: PollCycleOutput;
  try {
    const result = await poller.poll(AbortSignal.any([signal, timeout.signal]));
    // A process that stalled past its lease (a pause, a frozen VM) must not
    // publish or commit what it found: the holder now finds the same changes.
    if (lease && result.changes.length && !(await stillHeld(deps.store, lease, deps.now()))) {
      throw new LeaseMoved(lease);
    }
    const by = context.priority ? { ...source, priority: context.priority } : source;
    const events = result.changes.map((change) => changeEvent(by, change));
    await publish(system, events, signal);
    await result.commit?.();
    const delayMs = Math.max(intervalMs, result.retryAfterMs ?? 0);
    const status: SourceStatus = {
      lastScanAt: startedAt,
      lastChangeAt: result.changes.length ? startedAt : context.status.lastChangeAt,
      lastError: result.problem ?? null,
      lastErrorAt: result.problem ? startedAt : null,
      failures: 0,
      nextPollAt: deps.now() + delayMs,
    };
    output = { ok: true, changes: result.changes.length, status, delayMs };
  } catch (caught) {
    if (caught instanceof LeaseMoved) {
      deps.log.warn("source lease moved to another process; this scan's changes are left to it", {
        source: source.id,
        fence: caught.lease.fence,
      });
      // The status is the holder's to write now.
      return { ok: false, error: caught, status: context.status, delayMs: intervalMs };
    }
    const error = timeout.signal.aborted && !signal.aborted ? timeout.signal.reason : caught;
    const failures = context.status.failures + 1;
    const retryAfterMs = error instanceof PollError ? error.retryAfterMs : null;
    // The server's own wait wins over our guess; never poll faster than the interval.
    const delayMs = retryAfterMs !== null
      ? Math.max(intervalMs, retryAfterMs)
      : backoffDelay(intervalMs, failures);
    const status: SourceStatus = {
      ...context.status,
      lastScanAt: startedAt,
      lastError: errorText(error),
      lastErrorAt: startedAt,
      failures,
      nextPollAt: deps.now() + delayMs,
    };
    if (!signal.aborted) {
      deps.log.warn("poll failed; backing off", {
        source: source.id,
        error: status.lastError,
        failures,
        retryInMs: delayMs,
      });
    }
    output = { ok: false, error, status, delayMs };
  } finally {
    clearTimeout(timer);
  }
  // Once stopped, the store may already be closed: write nothing more.
  if (!signal.aborted) {
    reportScan(deps.store, source.id, deps.now() - startedAt);
    await state.set(STATUS_KEY, { ...output.status }).catch((error) =>
      deps.log.warn("could not save source status", { source: source.id, error })
    );
  }
  return output;
}
