/**
 * Hooks managed at run time (`/un/hooks`): a plain module, no actor code.
 * It validates a definition (lib/hooks/spec.ts; the task type must be one a
 * live worker runs), stores, changes and removes hooks, lists them with the
 * config file's own (read-only, `origin: "config"`), and builds the
 * `hook.*` CloudEvents on which every process recompiles its hooks
 * (lib/hooks/follow.ts), as `source.*` events do for sources.
 */

import type { HookSpec } from "../config/load.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { type CloudEvent, createEvent, type Json } from "../events/cloud-event.ts";
import type { TaskCatalog } from "../safety/runnable.ts";
import type { HookStore, StoredHook } from "../store/hook-store.ts";
import { parseHookSpec, specJson } from "./spec.ts";
import { readStoredHook } from "./stored.ts";

/** The `source` of every `hook.*` event. */
export const HOOK_EVENT_SOURCE = "/un/api";

/** What happened to a hook; the event type is `hook.<change>`. */
export type HookChange = "created" | "updated" | "deleted";

/** A hook as the API shows it: its definition's keys, flat, with where it comes from. */
export type HookView = Record<string, Json> & {
  id: string;
  enabled: boolean;
  /** `config`: from un.config.json's `hooks[]`, read-only; `api`: added at run time. */
  origin: "config" | "api";
  /** Null for a config-file hook. */
  createdAt: number | null;
  updatedAt: number | null;
  /** Why a stored definition no longer parses (it routes nothing); absent when it does. */
  error?: string;
};

/** The id a config-file hook is listed under: `config-<n>`, its place in `hooks[]` from 1. */
export function configHookId(index: number): string {
  return `config-${index + 1}`;
}

/** The config file's hooks, as listed (read-only). */
export function configHookViews(hooks: readonly HookSpec[]): HookView[] {
  return hooks.map((spec, index) => ({
    ...(JSON.parse(JSON.stringify(spec)) as Record<string, Json>),
    id: configHookId(index),
    enabled: true,
    origin: "config",
    createdAt: null,
    updatedAt: null,
  }));
}

/** A stored hook as listed. */
export function viewHook(hook: StoredHook): HookView {
  const read = readStoredHook(hook);
  return {
    ...hook.spec,
    id: hook.id,
    enabled: hook.enabled,
    origin: "api",
    createdAt: hook.createdAt,
    updatedAt: hook.updatedAt,
    ...("error" in read ? { error: `stored definition no longer valid: ${read.error}` } : {}),
  };
}

/**
 * Refuses (400, naming it) a task type no live worker runs. With no worker
 * alive, or workers that do not say, nothing is refused: a task waits.
 */
export async function checkTaskType(
  catalog: Pick<TaskCatalog, "runnable">,
  task: string,
): Promise<void> {
  const runnable = await catalog.runnable(true);
  if (runnable.kind !== "known" || runnable.types.has(task)) return;
  const known = [...runnable.types].sort().join(", ") || "none";
  throw new ValidationError(
    `unknown task type ${
      JSON.stringify(task)
    }: no live worker has a handler for it (known: ${known})`,
    { field: "task", value: task },
  );
}

/** Refuses (409) a change to a config-file hook. */
export function refuseConfigHook(id: string): never {
  throw new ConflictError(
    `hook ${id} comes from the config file (origin config) and is read-only here; ` +
      "change it in un.config.json",
    { field: "id", value: id },
  );
}

/** A stored hook, or 404 (409 for a config-file hook's id). */
export async function mustGetHook(
  store: Pick<HookStore, "getHook">,
  id: string,
  configHooks: number,
): Promise<StoredHook> {
  const hook = await store.getHook(id);
  if (hook) return hook;
  const n = /^config-(\d+)$/.exec(id);
  if (n && Number(n[1]) >= 1 && Number(n[1]) <= configHooks) refuseConfigHook(id);
  throw new NotFoundError("hook", id);
}

/** Adds a hook: validated (400), its task type checked, stored with a new id. */
export async function addHook(
  store: Pick<HookStore, "putHook">,
  catalog: Pick<TaskCatalog, "runnable">,
  input: unknown,
  now: number,
): Promise<StoredHook> {
  const spec = parseHookSpec(input);
  await checkTaskType(catalog, spec.task);
  const hook: StoredHook = {
    id: `hk_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`,
    spec: specJson(spec),
    enabled: spec.enabled,
    createdAt: now,
    updatedAt: now,
  };
  await store.putHook(hook);
  return hook;
}

/**
 * Changes a stored hook: `patch` merged over its definition (`null` removes
 * a key), validated as an add is; a changed task type is checked again.
 */
export async function updateHook(
  store: Pick<HookStore, "getHook" | "putHook">,
  catalog: Pick<TaskCatalog, "runnable">,
  id: string,
  patch: Record<string, unknown>,
  now: number,
  configHooks: number,
): Promise<{ previous: StoredHook; current: StoredHook }> {
  const previous = await mustGetHook(store, id, configHooks);
  if (patch.id !== undefined && patch.id !== id) {
    throw new ValidationError("id cannot change", { field: "id", value: patch.id as Json });
  }
  const merged: Record<string, unknown> = { ...previous.spec };
  for (const [key, value] of Object.entries(patch)) {
    if (key === "id") continue;
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  const spec = parseHookSpec(merged);
  if (spec.task !== previous.spec.task) await checkTaskType(catalog, spec.task);
  const current: StoredHook = {
    ...previous,
    spec: specJson(spec),
    enabled: spec.enabled,
    updatedAt: Math.max(now, previous.updatedAt + 1),
  };
  await store.putHook(current);
  return { previous, current };
}

/**
 * The `hook.<change>` CloudEvent: `subject` the hook id, `data.hook` the
 * hook as listed (`data.previous` too on `hook.updated`). Every process
 * (this one, and the others through the Redis bridge) reloads its hooks on it.
 */
export function hookEvent(change: HookChange, hook: StoredHook, previous?: StoredHook): CloudEvent {
  const view = viewHook(hook) as Json;
  return createEvent({
    type: `hook.${change}`,
    source: HOOK_EVENT_SOURCE,
    subject: hook.id,
    data: previous ? { hook: view, previous: viewHook(previous) as Json } : { hook: view },
  });
}
