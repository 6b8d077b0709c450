/**
 * The Redis bridge actor (distributed mode, `redis.events`). It hands other
 * processes' events to the local bus (`event.deliver`) and, when `consume` is
 * set, applies hooks once per event across all processes through the stream's
 * consumer group. The events this process makes reach the stream and pub/sub
 * with the event log's write itself (the Redis store mirrors each batch it
 * appends), so the supervisor sends the bridge nothing per event. The Redis work
 * lives in `lib/bridge/`; the actor owns it, reports its state (`connecting`,
 * `up`, `down`) and closes it when stopped. A Redis outage is a state, not a
 * crash: the link retries inside, so the supervisor never restarts it for that.
 */

import { assign, fromCallback, setup } from "xstate";
import type { RuntimeDeps } from "../lib/deps.ts";
import { type CloudEvent, PROCESS_ID } from "../lib/events.ts";
import { type BridgeHost, BridgeLink, ENQUEUE_TIMEOUT_MS } from "../lib/bridge/link.ts";
import { ask, type RuntimeMessage, type TaskRequest } from "../lib/messages.ts";

/** How long a stop waits for buffered events to reach Redis. */
const CLOSE_TIMEOUT_MS = 2_000;

/**
 * Input of the bridge.
 *
 * @example
 * ```ts
 * const input: BridgeInput = {
 *   deps, consume: true,
 *   wants: (type) => hooks.some((hook) => hook.matches(type)),
 *   hooked: () => hooks.length > 0,
 *   listens: (type) => bus.wantsRemote(type),
 *   interest: { patterns: () => bus.remotePatterns(), onChange: (fn) => bus.onRemoteInterest(fn) },
 *   tasksFor: (event) => tasksForEvent(hooks, event),
 * };
 * ```
 */
export interface BridgeInput {
  deps: RuntimeDeps;
  /** Join the hooks consumer group (processes that only serve the API do not). */
  consume: boolean;
  /** False when no hook can match events of this type (the runtime's current hooks). */
  wants(type: string): boolean;
  /** False while the runtime has no hooks at all. */
  hooked(): boolean;
  /** False when nothing in this process listens to other processes' events of this type. */
  listens(type: string): boolean;
  /** The event-type patterns this process follows from others, and when they change. */
  interest: BridgeHost["interest"];
  /** The tasks the hooks ask for on an event (the runtime's current hooks). */
  tasksFor(event: CloudEvent): TaskRequest[];
  /** Given the promise of the link's close when the actor stops, so a graceful stop can await it. */
  onClose?(closing: Promise<void>): void;
}

/**
 * Messages the bridge understands: its link's reports, and the test crash.
 *
 * @example
 * ```ts
 * bridge.send({ type: "bridge.down", detail: "connect ECONNREFUSED" });
 * ```
 */
export type BridgeEvent =
  | Extract<RuntimeMessage, { type: "debug.crash" }>
  | { type: "bridge.up" }
  | { type: "bridge.down"; detail: string };

/** What the running link needs from the input besides the link itself. */
type LinkHooks = Pick<
  BridgeInput,
  "wants" | "hooked" | "listens" | "interest" | "tasksFor" | "onClose"
>;

interface BridgeContext {
  link: BridgeLink;
  hooks: LinkHooks;
  /** Why Redis is unreachable, while it is. */
  detail: string | null;
}

/** Runs the link while the actor lives: starts it with the runtime as host, closes it on stop. */
const runLink = fromCallback<BridgeEvent, { link: BridgeLink; hooks: LinkHooks }>(
  ({ input, sendBack, system }) => {
    const send = (message: RuntimeMessage) => system.get("supervisor")?.send(message);
    const { link, hooks } = input;
    link.start({
      deliver: (event) => send({ type: "event.deliver", event }),
      wants: hooks.wants,
      hooked: hooks.hooked,
      listens: hooks.listens,
      interest: hooks.interest,
      tasksFor: hooks.tasksFor,
      enqueue: (requests) =>
        ask(send, (reply) => ({ type: "task.enqueueMany", requests, reply }), ENQUEUE_TIMEOUT_MS),
      status: (up, detail) =>
        sendBack(up ? { type: "bridge.up" } : { type: "bridge.down", detail: detail ?? "" }),
    });
    return () => hooks.onClose?.(link.close(CLOSE_TIMEOUT_MS));
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
    log: log.child("bridge"),
  });
}

/**
 * The bridge actor logic. Spawn it with id `bridge`.
 *
 * @example
 * ```ts
 * spawnChild(bridgeMachine, { id: "bridge", input: { deps, consume: true, tasksFor } });
 * ```
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
    hooks: {
      wants: input.wants,
      hooked: input.hooked,
      listens: input.listens,
      interest: input.interest,
      tasksFor: input.tasksFor,
      onClose: input.onClose,
    },
    detail: null,
  }),
  // At the root, so the link lives as long as the actor whatever its state.
  invoke: {
    src: "runLink",
    input: ({ context }) => ({ link: context.link, hooks: context.hooks }),
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
