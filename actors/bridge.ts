/**
 * The Redis bridge actor (distributed mode, `redis.events`). It hands other
 * processes' events to the local bus (`event.deliver`) and, when `consume` is
 * set, applies hooks once per event across all processes through the stream's
 * consumer group. The events this process makes reach the stream and pub/sub
 * with the event log's write itself (on Redis the log is that stream, and the
 * append publishes each batch), so the supervisor sends the bridge nothing per
 * event. The Redis work lives in `lib/store/redis/bridge/`; the actor owns
 * it, reports its state (`connecting`, `up`, `down`) and closes it when
 * stopped. A Redis outage is a state, not a crash: the link retries inside,
 * so the supervisor never restarts it for that.
 */

import { assign, fromCallback, setup } from "xstate";
import type { RuntimeDeps } from "../lib/protocol/deps.ts";
import { PROCESS_ID } from "../lib/events/cloud-event.ts";
import { type BridgeHost, BridgeLink, ENQUEUE_TIMEOUT_MS } from "../lib/store/redis/bridge/link.ts";
import { ask } from "../lib/protocol/ask.ts";
import type { RuntimeMessage } from "../lib/protocol/messages.ts";

/** Test fault `slow-follow`: how much longer each change of what the bridge follows takes. */
const SLOW_FOLLOW_MS = 1_000;
/** How long a stop waits for buffered events to reach Redis. */
const CLOSE_TIMEOUT_MS = 2_000;

/**
 * Input of the bridge.
 */
export interface BridgeInput {
  /** The bridge uses no store of its own (its Redis link is the store's connection). */
  deps: Omit<RuntimeDeps, "store">;
  /** Join the hooks consumer group (processes that only serve the API do not). */
  consume: boolean;
  /** The runtime's current hooks. */
  hooks: BridgeHost["hooks"];
  /** What this process follows of the others' events. */
  following: BridgeHost["following"];
  /** Given the promise of the link's close when the actor stops, so a graceful stop can await it. */
  onClose?(closing: Promise<void>): void;
}

/**
 * Messages the bridge understands: its link's reports, and the test crash.
 */
export type BridgeEvent =
  | Extract<RuntimeMessage, { type: "debug.crash" }>
  | { type: "bridge.up" }
  | { type: "bridge.down"; detail: string };

/** What the running link needs from the input besides the link itself. */
type LinkWiring = Pick<BridgeInput, "hooks" | "following" | "onClose">;

interface BridgeContext {
  link: BridgeLink;
  wiring: LinkWiring;
  /** Why Redis is unreachable, while it is. */
  detail: string | null;
}

/** Runs the link while the actor lives: starts it with the runtime as host, closes it on stop. */
const runLink = fromCallback<BridgeEvent, { link: BridgeLink; wiring: LinkWiring }>(
  ({ input, sendBack, system }) => {
    const send = (message: RuntimeMessage) => system.get("supervisor")?.send(message);
    const { link, wiring } = input;
    link.start({
      deliver: (event) => send({ type: "event.deliver", event }),
      hooks: wiring.hooks,
      following: wiring.following,
      enqueue: (requests) =>
        ask({ send }, "task.enqueueMany", { requests, hooked: true }, {
          timeoutMs: ENQUEUE_TIMEOUT_MS,
        }),
      status: (up, detail) =>
        sendBack(up ? { type: "bridge.up" } : { type: "bridge.down", detail: detail ?? "" }),
    });
    return () => wiring.onClose?.(link.close(CLOSE_TIMEOUT_MS));
  },
);

function linkFor(input: BridgeInput): BridgeLink {
  const { config, faults, log } = input.deps;
  const redis = config.redis;
  return new BridgeLink({
    url: redis.url ?? "",
    prefix: redis.prefix,
    self: PROCESS_ID,
    consume: input.consume,
    reclaimMs: redis.streamReclaimMs,
    minIdleMs: redis.streamMinIdleMs,
    processedTtlMs: redis.processedTtlMs,
    dropReads: faults.noAck === true,
    followDelayMs: faults.slowFollow ? SLOW_FOLLOW_MS : 0,
    log: log.child("bridge"),
  });
}

/**
 * The bridge actor logic. Spawn it with id `bridge`.
 */
export const bridgeMachine = setup({
  types: {
    context: {} as BridgeContext,
    input: {} as BridgeInput,
    events: {} as BridgeEvent,
  },
  actors: { runLink },
}).createMachine({
  id: "bridge",
  context: ({ input }) => ({
    link: linkFor(input),
    wiring: { hooks: input.hooks, following: input.following, onClose: input.onClose },
    detail: null,
  }),
  // At the root, so the link lives as long as the actor whatever its state.
  invoke: {
    src: "runLink",
    input: ({ context }) => ({ link: context.link, wiring: context.wiring }),
  },
  initial: "connecting",
  on: {
    "bridge.up": { target: ".up", actions: assign({ detail: null }) },
    "bridge.down": { target: ".down", actions: assign({ detail: ({ event }) => event.detail }) },
    "debug.crash": {
      actions: () => {
        throw new Error("fault injected into bridge");
      },
    },
  },
  states: {
    connecting: {},
    up: {},
    down: {},
  },
});
