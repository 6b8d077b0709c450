/**
 * State charts for the inspector, generated from an XState machine's own
 * definition (`machine.root.definition`), so a chart never drifts from the
 * code: every state with its transitions, the initial one marked. Actors that
 * are not machines (callbacks, promises) have no chart.
 */

/** One transition out of a state. */
export interface ChartTransition {
  /** The event as the machine names it (`loop.running`, `xstate.done.actor.0.x`). */
  event: string;
  /** A short label for people: `done`, `error`, `after sleep`, or the event itself. */
  label: string;
  /** Target state paths relative to the machine (`running`, `a.b`). */
  targets: string[];
  /** The guard's name, when the transition has one. */
  guard?: string;
}

/** One state of a machine, with its children. */
export interface ChartState {
  /** The state's key (`running`); the machine's id for the root. */
  key: string;
  /** Path from the root, dots between keys (`""` for the root). */
  path: string;
  type: string;
  /** The parent's initial state. */
  initial: boolean;
  states: ChartState[];
  /** Transitions that change state. */
  transitions: ChartTransition[];
  /** Events handled without changing state (actions only). */
  handles: string[];
}

/** A machine's chart. */
export interface MachineChart {
  /** The machine's id (`worker`, `pool`, `fs-scanner`). */
  id: string;
  root: ChartState;
}

interface TransitionDef {
  target?: readonly Target[];
  eventType?: string;
  guard?: { type?: string } | string;
}

interface StateDef {
  id: string;
  key: string;
  type: string;
  initial?: { target?: readonly Target[] };
  states?: Record<string, StateDef>;
  transitions?: readonly TransitionDef[];
}

interface MachineLike {
  id: string;
  root: { definition: StateDef };
}

function isMachine(logic: unknown): logic is MachineLike {
  const root = (logic as { root?: { definition?: unknown } } | null)?.root;
  return typeof (logic as { id?: unknown } | null)?.id === "string" &&
    typeof root === "object" && root !== null && "definition" in root;
}

/** `xstate.done.actor.0.scheduler.ticking` → `done`; `xstate.after.sleep.…` → `after sleep`. */
function labelOf(event: string): string {
  if (event === "") return "always";
  if (event.startsWith("xstate.done.actor.")) return "done";
  if (event.startsWith("xstate.error.actor.")) return "error";
  if (event.startsWith("xstate.done.state.")) return "done";
  const after = /^xstate\.after\.([^.]+)\./.exec(event);
  if (after) return `after ${after[1]}`;
  return event;
}

/** A definition's target: a state node (`{ id: "worker.running" }`) or its `#id`. */
type Target = string | { id: string };

/** `#worker.running` → `running` (paths are relative to the machine). */
function pathOfTarget(machineId: string, target: Target): string {
  const id = typeof target !== "string"
    ? target.id
    : target.startsWith("#")
    ? target.slice(1)
    : target;
  if (id === machineId) return "";
  return id.startsWith(`${machineId}.`) ? id.slice(machineId.length + 1) : id;
}

function guardName(guard: TransitionDef["guard"]): string | undefined {
  if (guard === undefined) return undefined;
  return typeof guard === "string" ? guard : guard.type ?? "guard";
}

function chartState(machineId: string, def: StateDef, path: string, initial: boolean): ChartState {
  const transitions: ChartTransition[] = [];
  const handles: string[] = [];
  for (const t of def.transitions ?? []) {
    const event = t.eventType ?? "";
    const targets = (t.target ?? []).map((target) => pathOfTarget(machineId, target));
    if (targets.length === 0) {
      if (!handles.includes(event)) handles.push(event);
      continue;
    }
    const guard = guardName(t.guard);
    transitions.push({ event, label: labelOf(event), targets, ...(guard ? { guard } : {}) });
  }
  const initialKey = def.initial?.target?.[0] ? pathOfTarget(machineId, def.initial.target[0]) : "";
  const states = Object.values(def.states ?? {}).map((child) => {
    const childPath = path ? `${path}.${child.key}` : child.key;
    return chartState(machineId, child, childPath, childPath === initialKey);
  });
  return {
    key: path ? def.key : machineId,
    path,
    type: def.type,
    initial,
    states,
    transitions,
    handles,
  };
}

/** Charts are static: one per machine object. */
const CHARTS = new WeakMap<object, MachineChart>();

/**
 * The chart of an actor's logic, or null when it is not a state machine.
 */
export function machineChart(logic: unknown): MachineChart | null {
  if (!isMachine(logic)) return null;
  let chart = CHARTS.get(logic);
  if (!chart) {
    chart = { id: logic.id, root: chartState(logic.id, logic.root.definition, "", true) };
    CHARTS.set(logic, chart);
  }
  return chart;
}

/**
 * The paths of the states a snapshot's `value` says are active, outermost
 * first: `"running"` → `["running"]`, `{ a: "b" }` → `["a", "a.b"]`.
 *
 * @example
 * ```ts
 * activePaths({ leading: "scanning" }); // ["leading", "leading.scanning"]
 * ```
 */
export function activePaths(value: unknown, prefix = ""): string[] {
  if (typeof value === "string") return [prefix ? `${prefix}.${value}` : value];
  if (value === null || typeof value !== "object") return [];
  const out: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    out.push(path, ...activePaths(child, path));
  }
  return out;
}

/**
 * Every state path of a chart that has no children (what an actor can be "in"), in order.
 */
export function leafStates(chart: MachineChart): string[] {
  const out: string[] = [];
  const walk = (state: ChartState) => {
    if (state.states.length === 0 && state.path !== "") out.push(state.path);
    state.states.forEach(walk);
  };
  walk(chart.root);
  return out;
}
