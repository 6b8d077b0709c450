/**
 * The scanner of every polling source (feed, GitHub, HTTP endpoint): one
 * generic actor that drives the source's {@link Poller} on its interval and
 * keeps the contract of `lib/sources/scanner.ts`.
 *
 * - Polls never overlap: a `source.scan` during a poll is answered by a fresh
 *   poll right after it (the running one may have started before the change).
 * - Each change goes to the supervisor as `event.publish` with a reply; the
 *   poller's state (seen ids, ETag) is saved only once every event is logged,
 *   so a crash repeats a change rather than losing it.
 * - A failed poll backs off (`interval · 2^failures`, capped at an hour, or
 *   until the server's `Retry-After` / rate-limit reset) and is recorded in
 *   the {@link SourceStatus}; it never crashes the actor.
 * - A source added at run time (stored with `origin: "api"`) polls under
 *   `http.allow`, each poll and redirect checked; a refused poll is a failed
 *   poll like any other.
 */

import { assign, fromPromise, setup } from "xstate";
import { answer, refuse } from "../lib/protocol/ask.ts";
import type { ReplyTo, RuntimeMessage } from "../lib/protocol/messages.ts";
import type { SourceSpec } from "../lib/config/load.ts";
import type { RuntimeDeps } from "../lib/protocol/deps.ts";
import type { Coordination, SourceStore } from "../lib/store/types.ts";
import { errorText } from "../lib/errors.ts";
import type { EventPriority } from "../lib/events/cloud-event.ts";
import { higherPriority } from "../lib/sources/manual-scan.ts";
import {
  EMPTY_STATUS,
  type ScannerInput,
  type SourceStatus,
  STATUS_KEY,
} from "../lib/sources/scanner.ts";
import {
  backoffDelay,
  DEFAULT_INTERVAL_MS,
  type Poller,
  type SourceState,
  sourceState,
} from "../lib/sources/poller.ts";
import { createPoller } from "../lib/sources/pollers.ts";
import { type PollCycleInput, type PollCycleOutput, runPollCycle } from "./poll-cycle.ts";

/** Messages a poll scanner understands. */
export type PollScannerEvent =
  | Extract<RuntimeMessage, { type: "source.scan" }>
  | { type: "debug.crash"; actor?: string };

/** Who waits for a scan's answer. */
type ScanAsk = ReplyTo<"source.scan">;

/** What a poll cycle needs, plus the scanner's own bookkeeping. */
interface PollScannerContext extends PollCycleInput {
  /** Wait before the next scheduled poll. */
  delayMs: number;
  /** Asks the running poll answers. */
  current: ScanAsk[];
  /** Asks waiting for the next poll. */
  queued: ScanAsk[];
  /** A scan was asked for (with or without a reply) that the running poll does not cover. */
  rescan: boolean;
  /** The priority asked for the next poll's events (manual scans); undefined: the source's. */
  asked?: EventPriority;
}

/**
 * What the source's polls are checked against: `http.allow` for a source
 * added at run time, null (unchecked) for a config-file source. The scanner's
 * input is the bare definition, so the stored record tells. A source the
 * store does not know was not added through the API (a scanner run on its
 * own, as in tests) and is its caller's own.
 */
async function outboundAllow(
  deps: RuntimeDeps<SourceStore & Coordination>,
  id: string,
): Promise<readonly string[] | null> {
  const stored = await deps.store.getSource(id);
  return stored?.origin === "api" ? deps.config.http.allow : null;
}

/**
 * The source's poller, made once its origin is known. Looked up as the scanner
 * starts (before a later delete could hide the record) and kept; a failed
 * lookup fails the poll waiting for it, so nothing is polled unchecked by
 * mistake, and the next poll asks again.
 */
function pollerOf(
  deps: RuntimeDeps<SourceStore & Coordination>,
  source: SourceSpec,
  state: SourceState,
): Poller {
  let made: Promise<Poller>;
  const make = () => {
    made = outboundAllow(deps, source.id).then(
      (allow) => createPoller(source, state, allow),
      (error) => {
        throw new Error(
          `could not read whether http.allow applies to the source: ${errorText(error)}`,
        );
      },
    );
    made.catch(() => {}); // Reported by the poll that awaits it, not as unhandled.
  };
  make();
  return {
    async poll(signal) {
      let poller: Poller;
      try {
        poller = await made;
      } catch (error) {
        make();
        throw error;
      }
      return await poller.poll(signal);
    },
  };
}

/**
 * The poll scanner actor logic; spawn one per feed, github or http source
 * (the supervisor routes `source.scan` to the child `source:<id>`).
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
    cycle: fromPromise<PollCycleOutput, { context: PollScannerContext }>(
      ({ input, signal, system }) => runPollCycle(input.context, signal, system),
    ),
  },
  delays: { untilNextPoll: ({ context }) => context.delayMs },
  guards: { scanAsked: ({ context }) => context.rescan },
  actions: {
    queueReply: assign({
      queued: ({ context, event }) =>
        event.type === "source.scan" && event.replyTo !== undefined
          ? [...context.queued, event.replyTo]
          : context.queued,
      rescan: true,
      asked: ({ context, event }) =>
        event.type === "source.scan"
          ? higherPriority(context.asked, event.request.priority)
          : context.asked,
    }),
  },
}).createMachine({
  id: "poll-scanner",
  context: ({ input }) => {
    const state = sourceState(input.deps.store, input.source.id);
    return {
      deps: input.deps,
      source: input.source,
      poller: pollerOf(input.deps, input.source, state),
      state,
      intervalMs: input.source.interval ?? DEFAULT_INTERVAL_MS[input.source.kind] ?? 60_000,
      lease: input.lease ?? null,
      status: { ...EMPTY_STATUS },
      delayMs: 0,
      current: [],
      queued: [],
      rescan: false,
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
            // Without failures the wait is the interval it was set under: a source
            // whose interval was changed (PATCH) waits for the new one at most.
            const cap = saved.failures > 0
              ? Math.max(context.intervalMs, 3_600_000)
              : context.intervalMs;
            return { status: saved, delayMs: Math.max(0, Math.min(wait, cap)) };
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
      always: { guard: "scanAsked", target: "polling" },
      after: { untilNextPoll: "polling" },
      on: { "source.scan": { target: "polling", actions: "queueReply" } },
    },
    polling: {
      entry: assign({
        current: ({ context }) => context.queued,
        queued: [],
        rescan: false,
        priority: ({ context }) => context.asked,
        asked: undefined,
      }),
      on: { "source.scan": { actions: "queueReply" } },
      invoke: {
        src: "cycle",
        input: ({ context }) => ({ context }),
        onDone: {
          target: "waiting",
          actions: [
            ({ context, event }) => {
              const out = event.output;
              for (const replyTo of context.current) {
                if (out.ok) answer(replyTo, { changes: out.changes });
                else refuse(replyTo, out.error);
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
            ({ context, event }) => context.current.forEach((ask) => refuse(ask, event.error)),
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
