/**
 * The scanner of every polling source (feed, GitHub, HTTP endpoint): one
 * generic actor that drives the source's {@link Poller} on its interval and
 * keeps the contract of `lib/scanner.ts`.
 *
 * - Polls never overlap: a `source.scan` during a poll is answered by a fresh
 *   poll right after it (the running one may have started before the change).
 * - Each change goes to the supervisor as `event.publish` with a reply; the
 *   poller's state (seen ids, ETag) is saved only once every event is logged,
 *   so a crash repeats a change rather than losing it.
 * - A failed poll backs off (`interval · 2^failures`, capped at an hour, or
 *   until the server's `Retry-After` / rate-limit reset) and is recorded in
 *   the {@link SourceStatus}; it never crashes the actor.
 */

import { type ActorSystem, type AnyActorRef, assign, fromPromise, setup } from "xstate";
import type { SourceSpec } from "../lib/config.ts";
import type { RuntimeDeps } from "../lib/deps.ts";
import type { CloudEvent } from "../lib/events.ts";
import type { Reply, RuntimeMessage, ScanRequest } from "../lib/messages.ts";
import { type ScannerInput, type SourceStatus, STATUS_KEY } from "../lib/scanner.ts";
import { createFeedPoller } from "../lib/sources/feed.ts";
import { createGithubPoller } from "../lib/sources/github.ts";
import { createHttpPoller } from "../lib/sources/http-monitor.ts";
import {
  backoffDelay,
  changeEvent,
  DEFAULT_INTERVAL_MS,
  errorText,
  type Poller,
  PollError,
  type SourceState,
  sourceState,
} from "../lib/sources/poller.ts";

/** Longest one poll may take before it counts as failed. */
export const POLL_TIMEOUT_MS = 30_000;

/** Messages a poll scanner understands. */
export type PollScannerEvent =
  | { type: "source.scan"; request: ScanRequest; reply?: Reply<{ changes: number }> }
  | { type: "debug.crash"; actor?: string };

type ScanReply = Reply<{ changes: number }>;

interface PollScannerContext {
  deps: RuntimeDeps;
  source: SourceSpec;
  poller: Poller;
  state: SourceState;
  intervalMs: number;
  status: SourceStatus;
  /** Wait before the next scheduled poll. */
  delayMs: number;
  /** Replies the running poll settles. */
  current: ScanReply[];
  /** Replies waiting for the next poll. */
  queued: ScanReply[];
}

/** What one poll cycle ended with. */
type CycleOutput =
  | { ok: true; changes: number; status: SourceStatus; delayMs: number }
  | { ok: false; error: unknown; status: SourceStatus; delayMs: number };

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

const EMPTY_STATUS: SourceStatus = {
  lastScanAt: null,
  lastChangeAt: null,
  lastError: null,
  lastErrorAt: null,
  failures: 0,
  nextPollAt: null,
};

/** Longest wait for the supervisor to log one event. */
const PUBLISH_TIMEOUT_MS = 10_000;

/**
 * Sends one event to the supervisor and waits until it is logged; gives up
 * when the actor stops (`signal`), so no timer outlives it.
 */
function publishOne(
  supervisor: AnyActorRef,
  event: CloudEvent,
  signal: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const settle = (error?: unknown) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => settle(signal.reason ?? new Error("scanner stopped"));
    const timer = setTimeout(
      () =>
        settle(new Error(`supervisor did not log ${event.type} within ${PUBLISH_TIMEOUT_MS}ms`)),
      PUBLISH_TIMEOUT_MS,
    );
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    const message: RuntimeMessage = {
      type: "event.publish",
      event,
      reply: { resolve: () => settle(), reject: (error) => settle(error ?? new Error("refused")) },
    };
    supervisor.send(message);
  });
}

/** Sends every event to the supervisor (in order) and waits until each is logged. */
async function publish(
  system: AnyActorSystem,
  events: CloudEvent[],
  signal: AbortSignal,
): Promise<void> {
  if (events.length === 0) return;
  const supervisor: AnyActorRef | undefined = system.get("supervisor");
  if (!supervisor) throw new Error("no supervisor to publish events to");
  await Promise.all(events.map((event) => publishOne(supervisor, event, signal)));
}

/** The actor system as `fromPromise` hands it over (XState does not export its alias). */
// deno-lint-ignore no-explicit-any
type AnyActorSystem = ActorSystem<any>;

/** One poll, publish, commit and status update. Never throws. */
async function runCycle(
  context: PollScannerContext,
  signal: AbortSignal,
  system: AnyActorSystem,
): Promise<CycleOutput> {
  const { deps, source, poller, state, intervalMs } = context;
  const startedAt = deps.now();
  const timeout = new AbortController();
  const timer = setTimeout(
    () => timeout.abort(new PollError(`poll timed out after ${POLL_TIMEOUT_MS}ms`)),
    POLL_TIMEOUT_MS,
  );
  let output: CycleOutput;
  try {
    const result = await poller.poll(AbortSignal.any([signal, timeout.signal]));
    const events = result.changes.map((change) => changeEvent(source, change));
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
    await state.set(STATUS_KEY, { ...output.status }).catch((error) =>
      deps.log.warn("could not save source status", { source: source.id, error })
    );
  }
  return output;
}

/**
 * The poll scanner actor logic; spawn one per feed, github or http source
 * (the supervisor routes `source.scan` to the child `source:<id>`).
 *
 * @example
 * ```ts
 * spawnChild(pollScannerMachine, { id: "source:blog", systemId: "source:blog", input: { deps, source } });
 * ```
 */
export const pollScannerMachine = setup({
  types: {
    context: {} as PollScannerContext,
    input: {} as ScannerInput,
    events: {} as PollScannerEvent,
  },
  actors: {
    restore: fromPromise<SourceStatus | null, { state: SourceState }>(({ input }) =>
      input.state.get<SourceStatus>(STATUS_KEY)
    ),
    cycle: fromPromise<CycleOutput, { context: PollScannerContext }>(
      ({ input, signal, system }) => runCycle(input.context, signal, system),
    ),
  },
  delays: { untilNextPoll: ({ context }) => context.delayMs },
  guards: { scanQueued: ({ context }) => context.queued.length > 0 },
  actions: {
    queueReply: assign({
      queued: ({ context, event }) =>
        event.type === "source.scan" && event.reply
          ? [...context.queued, event.reply]
          : context.queued,
    }),
  },
}).createMachine({
  id: "poll-scanner",
  context: ({ input }) => {
    const state = sourceState(input.deps.store, input.source.id);
    return {
      deps: input.deps,
      source: input.source,
      poller: createPoller(input.source, state),
      state,
      intervalMs: input.source.interval ?? DEFAULT_INTERVAL_MS[input.source.kind] ?? 60_000,
      status: EMPTY_STATUS,
      delayMs: 0,
      current: [],
      queued: [],
    };
  },
  initial: "restoring",
  on: {
    "debug.crash": {
      actions: ({ context }) => {
        throw new Error(`fault injected into scanner of source ${context.source.id}`);
      },
    },
  },
  states: {
    restoring: {
      on: { "source.scan": { actions: "queueReply" } },
      invoke: {
        src: "restore",
        input: ({ context }) => ({ state: context.state }),
        onDone: {
          target: "waiting",
          // After a restart, keep the failure count and a pending backoff or rate-limit wait.
          actions: assign(({ context, event }) => {
            const saved = event.output;
            if (!saved) return {};
            const wait = saved.nextPollAt === null ? 0 : saved.nextPollAt - context.deps.now();
            return {
              status: saved,
              delayMs: Math.max(0, Math.min(wait, Math.max(context.intervalMs, 3_600_000))),
            };
          }),
        },
        onError: {
          target: "waiting",
          actions: ({ context, event }) =>
            context.deps.log.warn("could not read source status; polling now", {
              source: context.source.id,
              error: event.error,
            }),
        },
      },
    },
    waiting: {
      always: { guard: "scanQueued", target: "polling" },
      after: { untilNextPoll: "polling" },
      on: { "source.scan": { target: "polling", actions: "queueReply" } },
    },
    polling: {
      entry: assign({ current: ({ context }) => context.queued, queued: [] }),
      on: { "source.scan": { actions: "queueReply" } },
      invoke: {
        src: "cycle",
        input: ({ context }) => ({ context }),
        onDone: {
          target: "waiting",
          actions: [
            ({ context, event }) => {
              const out = event.output;
              for (const reply of context.current) {
                if (out.ok) reply.resolve({ changes: out.changes });
                else reply.reject(out.error);
              }
            },
            assign({
              status: ({ event }) => event.output.status,
              delayMs: ({ event }) => event.output.delayMs,
              current: [],
            }),
          ],
        },
        // runCycle catches everything; this is a last guard so the actor keeps polling.
        onError: {
          target: "waiting",
          actions: [
            ({ context, event }) => context.current.forEach((reply) => reply.reject(event.error)),
            assign({
              delayMs: ({ context }) =>
                backoffDelay(context.intervalMs, context.status.failures + 1),
              current: [],
            }),
          ],
        },
      },
    },
  },
});
