/**
 * Source leadership (distributed mode): each source is scanned by exactly one
 * process at a time, the one holding the store lease `source:<id>`.
 *
 * One leader actor runs in every process with scanners. Every `leaseMs / 4` it
 * takes or renews the lease of each enabled source (leases live `leaseMs · 2/3`).
 * A source it gains gets a scanner (`supervisor.spawn`, with the lease's fence in
 * the scanner's input); a source it loses (another holder has the lease, or a
 * renewal could not reach the store before the lease would run out), or that is
 * disabled or deleted, gets its scanner stopped (`supervisor.stop`). So when a
 * holder dies, its lease runs out at most `2/3 · leaseMs` later and the next
 * round of another process, at most `leaseMs / 4` after that, takes it over:
 * within `11/12 · leaseMs`, which leaves the rest of one `leaseMs` for a round's
 * own time on a busy machine.
 *
 * `leader.release` (sent on a clean shutdown) stops its scanners and frees its
 * leases at once, so another process takes the sources over on its next round.
 *
 * The fence grows with every change of holder; it is passed to the scanner
 * with the lease's name (`input.lease`), and every scanner checks it before it
 * publishes what it found (a poll's changes, a batch of file changes): a
 * holder that stalled longer than its lease (a pause, a frozen VM) finds a
 * later fence and leaves the changes to the holder.
 */

import { type AnyActorRef, assign, fromPromise, setup } from "xstate";
import type { SourceSpec } from "../lib/config/load.ts";
import type { RuntimeDeps } from "../lib/protocol/deps.ts";
import type { Coordination, SourceStore } from "../lib/store/types.ts";
import { failureLog } from "../lib/log.ts";
import { PROCESS_ID } from "../lib/events/cloud-event.ts";
import { answer, ask, refuse } from "../lib/protocol/ask.ts";
import type { DirectMessage, ReplyTo } from "../lib/protocol/messages.ts";
import {
  type Held,
  leaderRound,
  releaseHeld,
  type Round,
  type RoundInput,
} from "./source-leader-round.ts";
import type { ChildSpec } from "./supervisor.ts";

/**
 * The leader's child id (and systemId) under the supervisor.
 */
export const SOURCE_LEADER_ID = "source-leader";

/** Input of the source leader. */
export interface SourceLeaderInput {
  deps: RuntimeDeps<SourceStore & Coordination>;
  /** Builds the scanner child of a source this process now leads; null when it has no scanner for the kind. */
  scannerChild(source: SourceSpec, fence: number): Promise<ChildSpec | null>;
  /** Lease holder name; default {@link PROCESS_ID}. */
  holder?: string;
}

/** Messages the source leader understands. */
export type SourceLeaderEvent =
  /** Sources changed (a `source.*` event): run a round now instead of at the next period. */
  | { type: "leader.refresh"; source?: string; deleted?: boolean }
  /** Stop leading: stop the scanners, free the leases; answers how many were freed. */
  | DirectMessage
  | { type: "debug.crash"; actor?: string };

interface SourceLeaderContext {
  deps: RuntimeDeps<SourceStore & Coordination>;
  scannerChild: SourceLeaderInput["scannerChild"];
  holder: string;
  ttlMs: number;
  periodMs: number;
  held: Record<string, Held>;
  /** A refresh came during a round: run another right after. */
  again: boolean;
  /** Releases asked for during a round. */
  releases: ReplyTo<"leader.release">[];
  /** Sources announced deleted: not led even while the store still lists them. */
  deleted: string[];
}

function supervisor(system: { get(id: string): AnyActorRef | undefined }) {
  return system.get("supervisor");
}

/**
 * The source leader actor logic (spawned by the runtime as
 * {@link SOURCE_LEADER_ID} when the store is distributed and the role scans).
 */
export const sourceLeaderMachine = setup({
  types: {
    context: {} as SourceLeaderContext,
    input: {} as SourceLeaderInput,
    events: {} as SourceLeaderEvent,
  },
  actors: {
    round: fromPromise<Round, RoundInput>(({ input }) => leaderRound(input)),
    release: fromPromise<number, Pick<RoundInput, "deps" | "holder" | "held">>(
      ({ input }) => releaseHeld(input),
    ),
  },
  actions: {
    apply: ({ system }, plan: Round) => {
      const sup = supervisor(system);
      for (const id of plan.stop) sup?.send({ type: "supervisor.stop", id: `source:${id}` });
      for (const child of plan.spawn) {
        // A restart (edited source, or a leader restarted by the supervisor) replaces the old scanner.
        sup?.send({ type: "supervisor.stop", id: child.id });
        sup?.send({ type: "supervisor.spawn", child });
      }
    },
    hold: assign(({ context }, plan: Round) => ({
      held: plan.held,
      deleted: context.deleted.filter((id) => !plan.gone.includes(id)),
    })),
    noteDeleted: assign({
      deleted: ({ context, event }) => {
        if (event.type !== "leader.refresh" || !event.source) return context.deleted;
        const others = context.deleted.filter((id) => id !== event.source);
        return event.deleted ? [...others, event.source] : others;
      },
    }),
    stopScanners: ({ context, system }) => {
      const sup = supervisor(system);
      for (const id of Object.keys(context.held)) {
        sup?.send({ type: "supervisor.stop", id: `source:${id}` });
      }
    },
    queueRelease: assign({
      releases: ({ context, event }) =>
        event.type === "leader.release" && event.replyTo !== undefined
          ? [...context.releases, event.replyTo]
          : context.releases,
    }),
    crash: () => {
      throw new Error("fault injected into source-leader");
    },
  },
  guards: {
    releaseAsked: ({ context }) => context.releases.length > 0,
    again: ({ context }) => context.again,
  },
  delays: { period: ({ context }) => context.periodMs },
}).createMachine({
  id: "source-leader",
  context: ({ input }) => {
    const leaseMs = input.deps.config.scheduler.sourceLeaseMs;
    return {
      deps: input.deps,
      scannerChild: input.scannerChild,
      holder: input.holder ?? PROCESS_ID,
      ttlMs: Math.round(leaseMs * 2 / 3),
      periodMs: Math.round(leaseMs / 4),
      held: {},
      failures: failureLog(input.deps.log, "source leadership: listing sources"),
      again: false,
      releases: [],
      deleted: [],
    };
  },
  initial: "leading",
  on: { "debug.crash": { actions: "crash" } },
  states: {
    leading: {
      initial: "round",
      on: { "leader.release": { target: "releasing", actions: "queueRelease" } },
      states: {
        round: {
          entry: assign({ again: false }),
          invoke: {
            src: "round",
            input: ({ context }) => context,
            onDone: {
              target: "check",
              actions: [
                { type: "apply", params: ({ event }) => event.output },
                { type: "hold", params: ({ event }) => event.output },
              ],
            },
            onError: {
              target: "check",
              actions: ({ context, event }) =>
                context.deps.log.warn("source leadership round failed", { error: event.error }),
            },
          },
          on: {
            "leader.refresh": { actions: [assign({ again: true }), "noteDeleted"] },
            // Let the round finish, so leases it takes are freed too.
            "leader.release": { actions: "queueRelease" },
          },
        },
        check: {
          always: [
            { guard: "releaseAsked", target: "#source-leader.releasing" },
            { guard: "again", target: "round" },
            { target: "waiting" },
          ],
        },
        waiting: {
          after: { period: "round" },
          on: { "leader.refresh": { target: "round", actions: "noteDeleted" } },
        },
      },
    },
    releasing: {
      entry: "stopScanners",
      invoke: {
        src: "release",
        input: ({ context }) => context,
        onDone: {
          target: "released",
          actions: ({ context, event }) => context.releases.forEach((r) => answer(r, event.output)),
        },
        onError: {
          target: "released",
          actions: ({ context, event }) => context.releases.forEach((r) => refuse(r, event.error)),
        },
      },
    },
    released: {
      entry: assign({ held: {}, releases: [] }),
      on: { "leader.release": { actions: ({ event }) => answer(event.replyTo, 0) } },
    },
  },
});

/**
 * Asks a leader to release its sources and waits (at most `timeoutMs`).
 */
export function releaseLeadership(leader: AnyActorRef, timeoutMs: number): Promise<number> {
  return ask(leader, "leader.release", {}, { timeoutMs });
}
