/**
 * The hook side of the store: hooks added at run time (`POST /un/hooks`).
 * The store keeps each definition as JSON and does not judge it: lib/hooks/
 * parses it when compiling, so a definition a later version no longer
 * accepts is listed with the reason instead of crashing a process.
 * Config-file hooks are never stored: the config is their source of truth.
 * The store also keeps each sampled hook's count of matching events, so that
 * `sample: {every: n}` holds across the processes that route events.
 */

import type { Json } from "../events/cloud-event.ts";

/** A hook added at run time, as persisted. */
export interface StoredHook {
  id: string;
  /** The definition (`on`, `task`, `where`, `sample`, ...), as validated when stored. */
  spec: Record<string, Json>;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

/** Hooks added at run time. */
export interface HookStore {
  /** Every stored hook, oldest first (createdAt, then id). */
  listHooks(): Promise<StoredHook[]>;
  getHook(id: string): Promise<StoredHook | null>;
  /** Creates or replaces a hook by id; its sample count starts again. */
  putHook(hook: StoredHook): Promise<void>;
  /** Removes a hook (and its sample count); true when it existed. */
  deleteHook(id: string): Promise<boolean>;
  /**
   * Counts one matching event of a hook with `sample: {every}` and says
   * whether it fires: true on every `every`-th since the last fire. One count
   * per hook, shared by every process on the store (each event is counted by
   * the one process that routes it), started again by each {@link putHook}
   * (a change) and removed with the hook. False, counting nothing, when the
   * hook is not stored.
   */
  sampleHook(id: string, every: number): Promise<boolean>;
}

/** Orders hooks as {@link HookStore.listHooks} promises: createdAt, then id. */
export function byCreation(a: StoredHook, b: StoredHook): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * A hook from its stored JSON; JSON that does not parse gives a disabled hook
 * with an empty definition (listed, so it can be deleted; never routed).
 */
export function hookFromJson(id: string, json: string): StoredHook {
  try {
    const hook = JSON.parse(json) as StoredHook;
    return { ...hook, id };
  } catch {
    return { id, spec: {}, enabled: false, createdAt: 0, updatedAt: 0 };
  }
}
