/**
 * The runtime's actors as the inspector and `/health` see them: the
 * supervisor and its children, with the pool's workers below the pool.
 */

import type { Actor } from "xstate";
import { describeChildren, type supervisorMachine } from "../actors/supervisor.ts";
import type { ActorInfo, ControlPlane } from "../lib/control.ts";
import { actorDetail, actorTree } from "../lib/inspect/actor-tree.ts";
import type { Inspector } from "../lib/inspect/inspector.ts";

type Supervisor = Actor<typeof supervisorMachine>;

/** The supervisor and its children. */
export function supervisedActors(supervisor: Supervisor): ActorInfo[] {
  const snap = supervisor.getSnapshot();
  return [
    { id: "supervisor", kind: "supervisor", state: snap.status, restarts: 0, lastError: null },
    ...describeChildren(snap as unknown as Parameters<typeof describeChildren>[0]),
  ];
}

/**
 * The control plane's `inspect`. `watched` says whether the inspector records
 * (`api.inspect`): without it a live feed gets nothing.
 */
export function inspectApi(
  supervisor: () => Supervisor,
  inspector: Inspector,
  watched: () => boolean,
): ControlPlane["inspect"] {
  const actors = () => supervisedActors(supervisor());
  return {
    recent: (limit) => inspector.recent(limit),
    // The whole tree: the pool's workers are the supervisor's grandchildren.
    actors: () => actorTree(actors(), supervisor(), inspector),
    actor: (id) => actorDetail(actors(), supervisor(), inspector, id),
    subscribe: (fn) => (watched() ? inspector.subscribe(fn) : () => {}),
  };
}
