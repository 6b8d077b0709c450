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
import type { HookStore, StoredHook } from "../store/hook-store.ts";
import { type CompiledHook, compileHooks, hookTakes, hookTask } from "./rules.ts";
import { compileStoredHooks } from "./stored.ts";

/**
 * What a feeder needs of the hooks.
 */
export interface HookRouting {
  /** False when no hook can match events of this type (the bridge acknowledges them unread). */
  wants(type: string): boolean;
  /** False while there are no hooks at all. */
  any(): boolean;
  /**
   * The tasks the hooks ask for on an event (none: nothing to do), before
   * the `sample` of a sampled hook: pass them through {@link sample} (once,
   * by the process that applies the event) when {@link sampling} says so.
   */
  route(event: CloudEvent): TaskRequest[];
  /** Whether some of `route`'s requests come from a sampled hook. */
  sampling(requests: readonly TaskRequest[]): boolean;
  /**
   * Of one event's requests (route's answer), those a sampled hook's count
   * lets through (one count per hook in the store, shared by every process);
   * the others as they are. Rejects when the store cannot count.
   */
  sample(requests: readonly TaskRequest[]): Promise<TaskRequest[]>;
}

/** What counts a sampled hook's matching events: the store (HookStore.sampleHook). */
export type HookSampler = Pick<HookStore, "sampleHook">;

/**
 * Counts in memory, for hooks without a store (tests, tools): one count per
 * hook id, never started again.
 */
export function memorySampler(): HookSampler {
  const counts = new Map<string, number>();
  return {
    sampleHook(id, every) {
      const count = (counts.get(id) ?? 0) + 1;
      counts.set(id, count >= every ? 0 : count);
      return Promise.resolve(count >= every);
    },
  };
}

/**
 * The compiled hooks of a runtime, and the routing of events through them.
 *
 * @example
 * ```ts
 * const hooks = new Hooks(config, store);
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
  readonly #sampler: HookSampler;
  /** The requests `route` made for a sampled hook, with its sample (until `sample` counts them). */
  readonly #sampled = new WeakMap<TaskRequest, { id: string; every: number }>();
  /** Per event type: whether some hook matches it (cleared when the hooks change). */
  #wanted = new Map<string, boolean>();

  /** `sampler`: the store, which counts sampled hooks' events (in memory without one). */
  constructor(config: Pick<Config, "hooks">, sampler: HookSampler = memorySampler()) {
    this.#config = config;
    this.#sampler = sampler;
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
    const { hooks, problems } = compileStoredHooks(stored);
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
    if (!this.wants(event.type)) return [];
    const out: TaskRequest[] = [];
    for (const hook of this.#compiled) {
      if (!hookTakes(hook, event)) continue;
      const request = hookTask(hook.spec, event);
      if (hook.sample) this.#sampled.set(request, hook.sample);
      out.push(request);
    }
    return out;
  }

  sampling(requests: readonly TaskRequest[]): boolean {
    return requests.some((request) => this.#sampled.has(request));
  }

  async sample(requests: readonly TaskRequest[]): Promise<TaskRequest[]> {
    const fires = await Promise.all(requests.map((request) => {
      const sample = this.#sampled.get(request);
      return sample ? this.#sampler.sampleHook(sample.id, sample.every) : true;
    }));
    return requests.filter((_, i) => fires[i]);
  }
}
