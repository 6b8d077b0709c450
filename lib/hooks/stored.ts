/**
 * Hooks added at run time, compiled for routing: a stored definition parsed
 * again (a version may have changed what it accepts), its `where` compiled,
 * and its `sample` named for the store, which counts the matching events per
 * hook id (HookStore.sampleHook), so a count survives the recompiles every
 * hook or source change makes and is one count across processes.
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
 * Compiles the enabled stored hooks that parse. Hooks that no longer parse
 * are left out and named in `problems`.
 */
export function compileStoredHooks(
  stored: readonly StoredHook[],
): { hooks: CompiledHook[]; problems: Array<{ id: string; error: string }> } {
  const hooks: CompiledHook[] = [];
  const problems: Array<{ id: string; error: string }> = [];
  for (const hook of stored) {
    if (!hook.enabled) continue;
    const read = readStoredHook(hook);
    if ("error" in read) {
      problems.push({ id: hook.id, error: read.error });
      continue;
    }
    const { where, sample, enabled: _enabled, ...rest } = read.spec;
    const condition = where === undefined ? null : compileWhere(where);
    const every = sample?.every ?? 1;
    hooks.push({
      spec: rest as HookSpec,
      matches: compilePattern(rest.on),
      source: null,
      ...(condition ? { admit: (event: CloudEvent) => condition.test(whereVariables(event)) } : {}),
      ...(every > 1 ? { sample: { id: hook.id, every } } : {}),
    });
  }
  return { hooks, problems };
}
