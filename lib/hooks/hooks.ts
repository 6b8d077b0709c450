/**
 * The hooks of one runtime: the compiled list (the config's `hooks[]` and the
 * `hooks` shorthand of every stored source, recompiled when sources change at
 * run time) and `route(event)`, the task requests an event asks for. Events
 * reach it through one of two feeders (see feed.ts): this process's bus on
 * the embedded store, or the Redis bridge's consumer group (lib/store/redis/bridge/apply.ts),
 * which routes each event once across all processes.
 */

import type { Config, SourceSpec } from "../config/load.ts";
import type { CloudEvent } from "../events/cloud-event.ts";
import type { TaskRequest } from "../protocol/messages.ts";
import type { StoredHook } from "../store/hook-store.ts";
import { type CompiledHook, compileHooks, tasksForEvent } from "./rules.ts";
import { compileStoredHooks } from "./stored.ts";

/**
 * What a feeder needs of the hooks.
 */
export interface HookRouting {
  /** False when no hook can match events of this type (the bridge acknowledges them unread). */
  wants(type: string): boolean;
  /** False while there are no hooks at all. */
  any(): boolean;
  /** The tasks the hooks ask for on an event (none: nothing to do). */
  route(event: CloudEvent): TaskRequest[];
}

/**
 * The compiled hooks of a runtime, and the routing of events through them.
 *
 * @example
 * ```ts
 * const hooks = new Hooks(config);
 * hooks.useSources(storedSourceSpecs); // their `hooks` shorthand joins
 * hooks.route(fileEvent); // [{ type: "file.metadata", payload: { path, event }, ... }]
 * ```
 */
export class Hooks implements HookRouting {
  readonly #config: Pick<Config, "hooks">;
  #compiled: readonly CompiledHook[];
  #sources: readonly SourceSpec[] = [];
  /** Hooks added at run time (lib/hooks/stored.ts), compiled. */
  #stored: readonly CompiledHook[] = [];
  /** Per sampled run-time hook: its matching events since its last fire. */
  readonly #counts = new Map<string, number>();
  /** Per event type: whether some hook matches it (cleared when the hooks change). */
  #wanted = new Map<string, boolean>();

  constructor(config: Pick<Config, "hooks">) {
    this.#config = config;
    this.#compiled = compileHooks({ hooks: config.hooks, sources: [] });
  }

  /**
   * The hooks now. A new array each time they change (readers that cache by
   * identity, such as the metrics' event-type labels, see the change).
   */
  get compiled(): readonly CompiledHook[] {
    return this.#compiled;
  }

  /** Recompiles with the sources now stored: the config's hooks, then each source's shorthand. */
  useSources(sources: readonly SourceSpec[]): void {
    this.#sources = sources;
    this.#recompile();
  }

  /**
   * Recompiles with the hooks added at run time now stored (after the
   * config's, before the sources' shorthand). Returns the stored hooks left
   * out because their definitions no longer parse, with the reason.
   */
  useStored(stored: readonly StoredHook[]): Array<{ id: string; error: string }> {
    const { hooks, problems } = compileStoredHooks(stored, this.#counts);
    this.#stored = hooks;
    this.#recompile();
    return problems;
  }

  #recompile(): void {
    const all = compileHooks({ hooks: this.#config.hooks, sources: [...this.#sources] });
    // The config's hooks first, then the run-time ones, then the sources' shorthand.
    const own = this.#config.hooks.length;
    this.#compiled = [...all.slice(0, own), ...this.#stored, ...all.slice(own)];
    this.#wanted = new Map();
  }

  wants(type: string): boolean {
    let wanted = this.#wanted.get(type);
    if (wanted === undefined) {
      wanted = this.#compiled.some((hook) => hook.matches(type));
      // Bounded: event types are few, but a publisher may invent many.
      if (this.#wanted.size >= 1_000) this.#wanted.clear();
      this.#wanted.set(type, wanted);
    }
    return wanted;
  }

  any(): boolean {
    return this.#compiled.length > 0;
  }

  route(event: CloudEvent): TaskRequest[] {
    return this.wants(event.type) ? tasksForEvent(this.#compiled, event) : [];
  }
}
