/**
 * Hooks: events in, task requests out. The rules (rules.ts), a runtime's
 * compiled hooks and their routing (hooks.ts), the bus feeder (feed.ts), and
 * hooks managed at run time: their definition (spec.ts), compilation
 * (stored.ts), management (manage.ts) and the follower that keeps every
 * process in step (follow.ts).
 *
 * @module
 */

export { type CompiledHook, compileHooks, renderTemplate, tasksForEvent } from "./rules.ts";
export { type HookRouting, Hooks } from "./hooks.ts";
export { feedFromBus } from "./feed.ts";
export { followStoredHooks, type StoredHooksFollower } from "./follow.ts";
