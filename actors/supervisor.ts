/**
 * The supervisor: the root actor. It spawns the runtime's actors, routes every
 * message between them (so the inspector sees them all in one place), hands
 * the events sent to it to the event outlet (log and bus; parts that only
 * announce, such as a task's lifecycle, use the outlet directly: no actor
 * needs those, see lib/events/event-outlet.ts), and restarts a crashed
 * child one-for-one: at most `maxRestarts` within `withinMs`, with a growing
 * delay (a delayed `supervisor.respawn`), then it escalates (the process exits
 * non-zero so the outer service manager restarts it).
 */

import { type AnyActorLogic, enqueueActions, setup } from "xstate";
import type { ActorInfo } from "../lib/control.ts";
import type { RuntimeDeps } from "../lib/protocol/deps.ts";
import { errorText, UnavailableError } from "../lib/errors.ts";
import { backoffMs } from "../lib/backoff.ts";
import type { EventOutlet } from "../lib/events/event-outlet.ts";
import { refuse, settle } from "../lib/protocol/ask.ts";
import type { AskType, ReplyTo, RuntimeMessage } from "../lib/protocol/messages.ts";
import { stopDescendants } from "../lib/protocol/xstate-internals.ts";

/** One child the supervisor keeps alive. */
export interface ChildSpec {
  id: string;
  /** "scheduler", "prioritizer", "pool", "scanner:fs", ... */
  kind: string;
  logic: AnyActorLogic;
  input: unknown;
}

/** Input of the supervisor. */
export interface SupervisorInput {
  /** Config, log and faults: the supervisor itself never reads the store. */
  deps: Omit<RuntimeDeps, "store">;
  /** The event log and the bus. */
  events: EventOutlet;
  children: ChildSpec[];
  /** Called when a child crashed too often: the runtime logs and exits non-zero. */
  escalate(actorId: string, error: unknown, restarts: number): void;
}

/** Messages of the supervisor: everything it routes, plus its own. */
export type SupervisorEvent =
  | RuntimeMessage
  | { type: "supervisor.spawn"; child: ChildSpec }
  | { type: "supervisor.stop"; id: string }
  | { type: "supervisor.respawn"; id: string }
  | { type: `xstate.error.actor.${string}`; error: unknown }
  | { type: `xstate.done.actor.${string}` };

/**
 * The maps hold one entry per child (a few dozen at most) and change only on a
 * spawn, a stop or a crash, so each change makes a new map (`assign`) rather
 * than changing the one a snapshot already holds.
 */
interface SupervisorContext extends Omit<SupervisorInput, "children"> {
  specs: ReadonlyMap<string, ChildSpec>;
  restarts: ReadonlyMap<string, number[]>;
  lastErrors: ReadonlyMap<string, string>;
}

/** A copy of `map` with `key` set to `value`. */
function withEntry<V>(map: ReadonlyMap<string, V>, key: string, value: V): Map<string, V> {
  return new Map(map).set(key, value);
}

/** A copy of `map` without `key`. */
function without<V>(map: ReadonlyMap<string, V>, key: string): Map<string, V> {
  const copy = new Map(map);
  copy.delete(key);
  return copy;
}

/** The id of a child's delayed respawn, so a stop can cancel it. */
const respawnId = (id: string) => `respawn:${id}`;

/** Which child a message goes to; `null` = the supervisor handles it. */
function targetOf(message: RuntimeMessage): string | null {
  switch (message.type) {
    case "event.publish":
    case "event.emit":
    case "event.emitMany":
    case "event.deliver":
      return null;
    case "task.enqueue":
    case "task.enqueueMany":
    case "task.reprioritize":
    case "task.retry":
    case "task.cancel":
      return "prioritizer";
    case "task.ready":
    case "task.abort":
    case "workers.scale":
    case "workers.info":
    case "workers.drain":
    case "workers.pause":
    case "workers.resume":
      return "pool";
    case "scheduler.wake":
      return "scheduler";
    case "source.scan":
      return `source:${message.request.sourceId}`;
    case "debug.crash":
      return message.actor;
  }
}

/**
 * Spawn options of a child. XState's typed `setup` only lets `spawnChild` name
 * actors declared in `setup({ actors })`; ours are chosen at run time (one
 * scanner per source), hence the cast.
 */
function spawnOptions(spec: ChildSpec): never {
  return { id: spec.id, systemId: spec.id, input: spec.input } as never;
}

/**
 * Snapshot of the supervisor's children for `/health` and the inspector.
 */
export function describeChildren(snapshot: {
  context: SupervisorContext;
  children: Record<string, { getSnapshot(): { status: string; value?: unknown } } | undefined>;
}): ActorInfo[] {
  const { specs, restarts, lastErrors } = snapshot.context;
  return [...specs.values()].map((spec) => {
    const child = snapshot.children[spec.id];
    const snap = child?.getSnapshot();
    const state = !snap
      ? "restarting"
      : snap.status !== "active"
      ? snap.status
      : typeof snap.value === "string"
      ? snap.value
      : snap.value && Object.keys(snap.value).length
      ? JSON.stringify(snap.value)
      : "active";
    return {
      id: spec.id,
      kind: spec.kind,
      state,
      restarts: restarts.get(spec.id)?.length ?? 0,
      lastError: lastErrors.get(spec.id) ?? null,
    };
  });
}

/**
 * The supervisor actor logic. Create it with `systemId: "supervisor"`: every
 * actor sends to `system.get("supervisor")`.
 *
 * @example
 * ```ts
 * const root = createActor(supervisorMachine, { systemId: "supervisor", input });
 * root.start();
 * root.send({ type: "task.enqueue", request: { type: "noop" } });
 * ```
 */
export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    input: {} as SupervisorInput,
    events: {} as SupervisorEvent,
  },
}).createMachine({
  id: "supervisor",
  context: ({ input }) => ({
    deps: input.deps,
    events: input.events,
    escalate: input.escalate,
    specs: new Map(input.children.map((c) => [c.id, c])),
    restarts: new Map(),
    lastErrors: new Map(),
  }),
  entry: enqueueActions(({ context, enqueue }) => {
    for (const spec of context.specs.values()) {
      enqueue.spawnChild(spec.logic, spawnOptions(spec));
    }
  }),
  on: {
    "event.publish": {
      // The supervisor needs nothing from the write: only an asker waits, for
      // the event to be in the log, so the outcome goes straight back to it.
      actions: ({ context, event }) => {
        if (event.replyTo === undefined) context.events.publish(event.event);
        else {settle(
            event.replyTo,
            context.events.publish(event.event, true).then(() => event.event),
          );}
      },
    },
    "event.emit": {
      actions: ({ context, event }) => context.events.emit(event.init),
    },
    "event.emitMany": {
      actions: ({ context, event }) => context.events.emitMany(event.inits),
    },
    "event.deliver": {
      // Logged and published by the process it came from: only local subscribers need it.
      actions: ({ context, event }) => context.events.deliver(event.event),
    },
    "supervisor.spawn": {
      actions: enqueueActions(({ context, event, enqueue }) => {
        const spec = event.child;
        enqueue.assign({ specs: withEntry(context.specs, spec.id, spec) });
        enqueue.spawnChild(spec.logic, spawnOptions(spec));
      }),
    },
    "supervisor.stop": {
      actions: enqueueActions(({ context, event, enqueue }) => {
        enqueue.assign({
          specs: without(context.specs, event.id),
          restarts: without(context.restarts, event.id),
        });
        enqueue.cancel(respawnId(event.id));
        enqueue.stopChild(event.id);
      }),
    },
    "supervisor.respawn": {
      actions: enqueueActions(({ context, event, enqueue, self }) => {
        const spec = context.specs.get(event.id);
        if (!spec || self.getSnapshot().children[event.id]) return;
        enqueue.spawnChild(spec.logic, spawnOptions(spec));
      }),
    },
    "xstate.error.actor.*": {
      actions: enqueueActions(({ context, event, enqueue, self }) => {
        const id = event.type.slice("xstate.error.actor.".length);
        const error = (event as { error?: unknown }).error;
        const spec = context.specs.get(id);
        stopDescendants(self.getSnapshot().children[id]);
        enqueue.stopChild(id);
        if (!spec) return;
        const { maxRestarts, withinMs } = context.deps.config.supervisor;
        const now = Date.now();
        const recent = [...(context.restarts.get(id) ?? []).filter((t) => now - t < withinMs), now];
        enqueue.assign({
          restarts: withEntry(context.restarts, id, recent),
          lastErrors: withEntry(context.lastErrors, id, errorText(error)),
        });
        if (recent.length > maxRestarts) {
          // After the assign, so whatever the escalation reads shows this crash.
          enqueue(() => context.escalate(id, error, recent.length - 1));
          return;
        }
        // The first restart is immediate; a crash loop backs off from 100 ms to 5 s.
        const delay = recent.length === 1
          ? 0
          : backoffMs(recent.length - 1, { baseMs: 100, maxMs: 5_000 });
        context.deps.log.error(`actor ${id} crashed; restarting`, {
          kind: spec.kind,
          error: errorText(error),
          restart: recent.length,
          limit: `${maxRestarts} in ${withinMs}ms`,
          delayMs: delay,
        });
        context.events.emit({
          type: "actor.restarted",
          source: "/un/supervisor",
          subject: id,
          priority: "high",
          data: { actor: id, kind: spec.kind, error: errorText(error), restarts: recent.length },
        });
        if (delay === 0) {
          enqueue.spawnChild(spec.logic, spawnOptions(spec));
        } else {
          enqueue.raise({ type: "supervisor.respawn", id }, { delay, id: respawnId(id) });
        }
      }),
    },
    "*": {
      actions: ({ context, event, self }) => {
        const message = event as RuntimeMessage;
        if (message.type === "debug.crash" && !context.deps.faults.crash) return;
        if (message.type === "debug.crash" && message.actor === "supervisor") {
          throw new Error("fault injected into supervisor");
        }
        const target = targetOf(message);
        if (target === null) return;
        const child = self.getSnapshot().children[target];
        if (child) {
          child.send(message);
          return;
        }
        refuse(
          (message as { replyTo?: ReplyTo<AskType> }).replyTo,
          new UnavailableError(
            `${target} is not running in this process (restarting, or not in this role)`,
            { actor: target },
          ),
        );
      },
    },
  },
});
