/**
 * Hooks: events in, task requests out. The rules (rules.ts), a runtime's
 * compiled hooks and their routing (hooks.ts), and the bus feeder (feed.ts).
 *
 * @module
 */

export { type CompiledHook, compileHooks, renderTemplate, tasksForEvent } from "./rules.ts";
export { type HookRouting, Hooks } from "./hooks.ts";
export { feedFromBus } from "./feed.ts";
