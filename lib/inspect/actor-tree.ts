/**
 * The live supervision tree for the inspector: the supervisor's children (as
 * `describeChildren` reports them, with their restarts) and, below them,
 * every machine actor they spawned in turn (the pool's workers, a leader's
 * scanners), found by walking snapshots' `children`. Read-only: it looks at
 * snapshots, never sends. Contexts are shown as JSON with secrets redacted.
 */

import { activePaths, leafStates, machineChart } from "./actor-chart.ts";
import type { ActorDetail, ActorInfo } from "../control.ts";
import type { Json } from "../events/cloud-event.ts";
import { REDACTED, redactText } from "../sources/redact.ts";

/** What the walk needs of an XState actor ref. */
export interface ActorNode {
  id: string;
  logic?: unknown;
  getSnapshot(): {
    status: string;
    value?: unknown;
    context?: unknown;
    children?: Record<string, ActorNode | undefined>;
  };
}

/** Restarts and last error of actors below the supervisor's children (the inspector notes them). */
export interface CrashNotes {
  crashesOf(id: string): { restarts: number; lastError: string | null } | undefined;
}

interface Entry {
  info: ActorInfo;
  ref: ActorNode | undefined;
}

function stateText(snap: ReturnType<ActorNode["getSnapshot"]>): string {
  if (snap.status !== "active") return snap.status;
  if (typeof snap.value === "string") return snap.value;
  if (snap.value && typeof snap.value === "object" && Object.keys(snap.value).length) {
    return JSON.stringify(snap.value);
  }
  return "active";
}

/** The machine fields of a listed actor: its chart's id, its states and which are active. */
function machineFields(ref: ActorNode): Partial<ActorInfo> {
  const chart = machineChart(ref.logic);
  if (!chart) return {};
  const snap = ref.getSnapshot();
  const active = snap.status === "active" ? activePaths(snap.value) : [];
  return { machine: chart.id, states: leafStates(chart), active };
}

function isMachineActor(ref: ActorNode | undefined): ref is ActorNode {
  return ref !== undefined && machineChart(ref.logic) !== null;
}

function walk(top: ActorInfo[], root: ActorNode, notes: CrashNotes): Entry[] {
  const out: Entry[] = [];
  const taken = new Set<string>();
  const below = (ref: ActorNode, parent: string) => {
    for (const [key, child] of Object.entries(ref.getSnapshot().children ?? {})) {
      if (!isMachineActor(child)) continue;
      // Ids are unique among siblings only; the tree needs them unique everywhere.
      const id = taken.has(key) ? `${parent}/${key}` : key;
      taken.add(id);
      const crashes = notes.crashesOf(id);
      const info: ActorInfo = {
        id,
        kind: machineChart(child.logic)?.id ?? "actor",
        state: stateText(child.getSnapshot()),
        restarts: crashes?.restarts ?? 0,
        lastError: crashes?.lastError ?? null,
        parent,
        ...machineFields(child),
      };
      out.push({ info, ref: child });
      below(child, id);
    }
  };
  const children = root.getSnapshot().children ?? {};
  const rootInfo = top.find((a) => a.kind === "supervisor");
  for (const info of top) {
    taken.add(info.id);
    if (info === rootInfo) {
      out.push({ info: { ...info, parent: null, ...machineFields(root) }, ref: root });
      continue;
    }
    const ref = children[info.id];
    out.push({
      info: { ...info, parent: rootInfo?.id ?? null, ...(ref ? machineFields(ref) : {}) },
      ref,
    });
    if (ref) below(ref, info.id);
  }
  return out;
}

/**
 * Every actor of the process, parents before their children.
 */
export function actorTree(top: ActorInfo[], root: ActorNode, notes: CrashNotes): ActorInfo[] {
  return walk(top, root, notes).map((e) => e.info);
}

/**
 * One actor's listing, context and chart, or null when no actor has that id.
 */
export function actorDetail(
  top: ActorInfo[],
  root: ActorNode,
  notes: CrashNotes,
  id: string,
): ActorDetail | null {
  const entry = walk(top, root, notes).find((e) => e.info.id === id);
  if (!entry) return null;
  const snap = entry.ref?.getSnapshot();
  return {
    actor: entry.info,
    context: snap ? contextJson(snap.context) : null,
    chart: entry.ref ? machineChart(entry.ref.logic) : null,
  };
}

/** Keys whose values are secrets whatever they hold. */
const SECRET_KEY = /secret|token|password|passwd|apikey|api_key|authorization|cookie|signing/i;
/** Runtime plumbing shared by every actor: big, and nothing about the actor itself. */
const PLUMBING = new Set(["deps", "bus", "eventLog", "log", "store", "logic", "escalate"]);
const MAX_DEPTH = 6;
const MAX_ITEMS = 50;
const MAX_STRING = 500;

function plainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function toJson(value: unknown, key: string, depth: number, seen: Set<object>): Json {
  if (value === null || value === undefined) return null;
  if (SECRET_KEY.test(key)) return REDACTED;
  if (PLUMBING.has(key)) return `[${key}]`;
  switch (typeof value) {
    case "string":
      return redactText(value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value);
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "boolean":
      return value;
    case "bigint":
      return String(value);
    case "function":
      return "[function]";
    case "symbol":
      return String(value);
  }
  const object = value as object;
  if (seen.has(object)) return "[circular]";
  if (depth >= MAX_DEPTH) return "[…]";
  if (object instanceof Date) return object.toISOString();
  if (object instanceof Error) return { name: object.name, message: redactText(object.message) };
  if ("sessionId" in object && "send" in object) return `[actor ${(object as { id?: string }).id}]`;
  seen.add(object);
  try {
    const items = (list: unknown[]): Json[] => {
      const shown = list.slice(0, MAX_ITEMS).map((v) => toJson(v, "", depth + 1, seen));
      return list.length > MAX_ITEMS ? [...shown, `… ${list.length - MAX_ITEMS} more`] : shown;
    };
    if (Array.isArray(object)) return items(object);
    if (object instanceof Set) return items([...object]);
    const entries = object instanceof Map
      ? [...object.entries()].map(([k, v]) => [String(k), v] as const)
      : plainObject(object)
      ? Object.entries(object)
      : null;
    if (entries === null) return `[${object.constructor?.name ?? "object"}]`;
    const out: Record<string, Json> = {};
    for (const [k, v] of entries.slice(0, MAX_ITEMS)) {
      // Header values are credentials more often than not.
      out[k] = key === "headers" ? REDACTED : toJson(v, k, depth + 1, seen);
    }
    if (entries.length > MAX_ITEMS) out["…"] = `${entries.length - MAX_ITEMS} more`;
    return out;
  } finally {
    seen.delete(object);
  }
}

/**
 * An actor's context as JSON a page may show: secret-named keys, header values
 * and URL query values and passwords redacted; runtime plumbing (`deps`, the
 * bus, the store) named but not expanded; class instances by name; depth,
 * lists and strings capped.
 *
 * @example
 * ```ts
 * contextJson({ url: "https://h/x?key=k", token: "t", deps });
 * // { url: "https://h/x?key=[redacted]", token: "[redacted]", deps: "[deps]" }
 * ```
 */
export function contextJson(context: unknown): Json {
  return toJson(context, "", 0, new Set());
}
