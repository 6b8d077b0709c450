/**
 * The two private parts of XState v5 this runtime reaches, here so that
 * nothing else does. Each is a workaround: drop it when XState offers a
 * public way (or fixes the bug), and check both on every XState upgrade.
 *
 * - `_stop()`: XState does not stop the invoked or spawned children of an
 *   actor that threw (https://github.com/statelyai/xstate/issues/5153, open),
 *   so a crashed scanner's watcher, timers or database connection would go on,
 *   and keep emitting, beside its restarted copy. The public `stop()` is
 *   refused on anything but a root actor since
 *   https://github.com/statelyai/xstate/pull/3878; `_stop()` is what XState's
 *   own `stopChild` calls.
 * - `_parent`: a message sent with `ref.send()` carries no sender in XState's
 *   inspection events (`sourceRef` is unset), so the inspector names the
 *   receiver's parent, the only actor that sends down the tree here. No
 *   upstream issue asks for the sender of such a message.
 */

import type { AnyActorRef } from "xstate";

/** An actor ref as XState implements it, with the two private members used here. */
interface Internals {
  _stop(): void;
  _parent?: AnyActorRef;
}

/**
 * Stops every child of `ref` (and theirs, deepest first), as XState should
 * when `ref` crashed. `ref` itself is left to its parent's `stopChild`.
 *
 * @example
 * ```ts
 * stopDescendants(self.getSnapshot().children["source:docs"]);
 * enqueue.stopChild("source:docs");
 * ```
 */
export function stopDescendants(ref: AnyActorRef | undefined): void {
  const children = (ref?.getSnapshot() as { children?: Record<string, AnyActorRef> } | undefined)
    ?.children;
  for (const child of Object.values(children ?? {})) {
    stopDescendants(child);
    (child as unknown as Internals)._stop();
  }
}

/**
 * The actor that spawned or invoked `ref`; undefined for a root actor (or
 * anything that is not an actor ref).
 */
export function parentOf(ref: unknown): AnyActorRef | undefined {
  return (ref as Partial<Internals> | undefined)?._parent;
}
