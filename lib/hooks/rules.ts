/**
 * The rules of hooks: `{ "on": "file.*", "task": "file.metadata" }` turns each
 * matching event into a task request. A source's `hooks` shorthand is the same
 * with `on` defaulting to every event of that source. Pure functions: the
 * `Hooks` of hooks.ts hold the compiled list a runtime routes events with.
 */

import type { Config, HookSpec } from "../config/load.ts";
import {
  type CloudEvent,
  EVENT_PRIORITY_TO_TASK,
  type Json,
  sourceUri,
} from "../events/cloud-event.ts";
import type { TaskRequest } from "../protocol/messages.ts";
import { compilePattern, type TypeMatcher } from "../events/wildcard.ts";

/** A hook ready to match events. */
export interface CompiledHook {
  spec: HookSpec;
  matches: TypeMatcher;
  /** Only events from this source (`/un/sources/<id>`), for a source's own hooks. */
  source: string | null;
  /**
   * A further say on an event whose type matches (a hook added at run time:
   * its `where`); absent: every such event.
   */
  admit?: (event: CloudEvent) => boolean;
  /**
   * A run-time hook's `sample`: of the events it admits, only every `every`-th
   * makes a task, counted in the store under the hook's id (Hooks.sample).
   */
  sample?: { id: string; every: number };
}

/**
 * Compiles `hooks[]` and every source's `hooks` shorthand.
 */
export function compileHooks(config: Pick<Config, "hooks" | "sources">): CompiledHook[] {
  const hooks: CompiledHook[] = config.hooks.map((spec) => ({
    spec,
    matches: compilePattern(spec.on),
    source: null,
  }));
  for (const source of config.sources) {
    for (const partial of source.hooks ?? []) {
      const spec = { ...partial, on: partial.on ?? "**" } as HookSpec;
      hooks.push({ spec, matches: compilePattern(spec.on), source: sourceUri(source.id) });
    }
  }
  return hooks;
}

/**
 * Replaces `{field}` in a template with the event's fields (`{subject}`, `{type}`, `{id}`, `{source}`, `{data.path}`);
 * also renders a rate limit's group key over a task (`{payload.repo}`).
 */
export function renderTemplate(template: string, event: CloudEvent | object): string {
  return template.replace(/\{([A-Za-z0-9_.]+)\}/g, (_, path: string) => {
    let node: unknown = event;
    for (const key of path.split(".")) {
      // Own keys only: `{constructor}` or `{data.toString}` must not reach
      // into the prototype and print a function's source.
      node = node !== null && typeof node === "object" && Object.hasOwn(node, key)
        ? (node as Record<string, unknown>)[key]
        : undefined;
    }
    if (node === undefined || node === null) return "";
    // An object or array as JSON, not "[object Object]".
    return typeof node === "object" ? JSON.stringify(node) : String(node);
  });
}

/** Whether a hook takes an event: its source, its pattern, then its `admit`. */
export function hookTakes(hook: CompiledHook, event: CloudEvent): boolean {
  if (hook.source !== null && hook.source !== event.source) return false;
  if (!hook.matches(event.type)) return false;
  return !hook.admit || hook.admit(event);
}

/**
 * The tasks an event asks for, before any `sample` (Hooks.route and
 * Hooks.sample apply it). The payload is the event's data (when it is an
 * object) merged with the hook's payload, plus `event` (id, type, subject, source).
 *
 * @example
 * ```ts
 * tasksForEvent(hooks, fileEvent); // [{ type: "file.metadata", payload: { path: ..., event: {...} }, ... }]
 * ```
 */
export function tasksForEvent(hooks: readonly CompiledHook[], event: CloudEvent): TaskRequest[] {
  return hooks.filter((hook) => hookTakes(hook, event)).map((hook) => hookTask(hook.spec, event));
}

/** The task request a hook makes of an event it takes. */
export function hookTask(spec: HookSpec, event: CloudEvent): TaskRequest {
  const data = event.data !== null && typeof event.data === "object" && !Array.isArray(event.data)
    ? event.data
    : { data: event.data };
  const payload = {
    ...data,
    ...(spec.payload as Record<string, Json> | undefined),
    event: {
      id: event.id,
      type: event.type,
      source: event.source,
      subject: event.subject ?? null,
    },
  } as Json;
  const request: TaskRequest = {
    type: spec.task,
    payload,
    priority: spec.priority ?? EVENT_PRIORITY_TO_TASK[event.priority],
    correlationId: event.correlationid ?? event.id,
  };
  if (spec.queue) request.queue = spec.queue;
  if (spec.delayMs) request.delayMs = spec.delayMs;
  if (spec.key) request.key = renderTemplate(spec.key, event);
  if (spec.maxAttempts) request.maxAttempts = spec.maxAttempts;
  if (spec.timeoutMs) request.timeoutMs = spec.timeoutMs;
  return request;
}
