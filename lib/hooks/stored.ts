/**
 * Hooks added at run time, compiled for routing: a stored definition parsed
 * again (a version may have changed what it accepts), its `where` compiled,
 * and its `sample` counting matching events per hook id, so a count survives
 * the recompiles every hook or source change makes.
 */

import type { HookSpec } from "../config/load.ts";
import { errorText } from "../errors.ts";
import type { CloudEvent } from "../events/cloud-event.ts";
import { compilePattern } from "../events/wildcard.ts";
import type { StoredHook } from "../store/hook-store.ts";
import type { CompiledHook } from "./rules.ts";
import { type ApiHookSpec, compileWhere, parseHookSpec, whereVariables } from "./spec.ts";

/** A stored hook's definition, or why it no longer parses. */
export function readStoredHook(hook: StoredHook): { spec: ApiHookSpec } | { error: string } {
  try {
    return { spec: parseHookSpec(hook.spec) };
  } catch (error) {
    return { error: errorText(error) };
  }
}

/**
 * Compiles the enabled stored hooks that parse; `counts` holds each sampled
 * hook's count of matching events (kept by the caller across recompiles).
 * Hooks that no longer parse are left out and named in `problems`.
 */
export function compileStoredHooks(
  stored: readonly StoredHook[],
  counts: Map<string, number>,
): { hooks: CompiledHook[]; problems: Array<{ id: string; error: string }> } {
  const hooks: CompiledHook[] = [];
  const problems: Array<{ id: string; error: string }> = [];
  const live = new Set<string>();
  for (const hook of stored) {
    if (!hook.enabled) continue;
    const read = readStoredHook(hook);
    if ("error" in read) {
      problems.push({ id: hook.id, error: read.error });
      continue;
    }
    live.add(hook.id);
    const { where, sample, enabled: _enabled, ...rest } = read.spec;
    const condition = where === undefined ? null : compileWhere(where);
    const every = sample?.every ?? 1;
    const admit = condition === null && every === 1 ? undefined : (event: CloudEvent) => {
      if (condition !== null && !condition.test(whereVariables(event))) return false;
      if (every === 1) return true;
      const count = (counts.get(hook.id) ?? 0) + 1;
      counts.set(hook.id, count % every);
      return count % every === 0;
    };
    hooks.push({
      spec: rest as HookSpec,
      matches: compilePattern(rest.on),
      source: null,
      ...(admit ? { admit } : {}),
    });
  }
  // A removed hook's count goes with it.
  for (const id of counts.keys()) if (!live.has(id)) counts.delete(id);
  return { hooks, problems };
}
