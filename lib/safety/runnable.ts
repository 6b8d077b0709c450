/**
 * Which task types can run, so `POST /un/tasks/create` refuses one that
 * cannot (a type no live worker has a handler for, an `exec` command no
 * worker's config names) with a 400 at the door instead of a task that sits
 * in the queue and fails later.
 *
 * On the embedded store only this process runs tasks: its own handlers and
 * commands decide. On Redis, every process records what it can run in its
 * process record (lib/processes/registry.ts) and the union over the live
 * worker processes (a record with a pool, concurrency > 0, not run out)
 * decides, so a type only one worker has is accepted through any API. A
 * worker of an older version records no types: then nothing can be refused.
 * With no worker alive, a create is accepted with a warning.
 */

import type { HandlerMap } from "../handlers/types.ts";
import { type PayloadSchema, payloadSchemaOf } from "../handlers/schemas.ts";
import type { Store } from "../store/types.ts";

/** How long a positive answer is reused: one store read per second at most on the busy path. */
const CACHE_MS = 1_000;

/**
 * What the live workers can run.
 *
 * - `known`: the task types and `exec` command names of every live worker.
 * - `unknown`: some live worker does not say (an older version), or the
 *   store could not be read: nothing is refused on this account.
 * - `none`: no worker is alive; a task waits until one starts.
 */
export type Runnable =
  | { kind: "known"; types: ReadonlySet<string>; execCommands: ReadonlySet<string> }
  | { kind: "unknown" }
  | { kind: "none" };

/**
 * What this process can run and where to learn about the others.
 */
export interface TaskCatalogOptions {
  /** This process's handlers (their types, and their payload schemas for create). */
  handlers: HandlerMap;
  /** This process runs a worker pool. */
  pool: boolean;
  /** The `exec` command names of this process's config. */
  execCommands: readonly string[];
  /** The shared store whose process records list the other workers; null on the embedded store. */
  store: Store | null;
  now(): number;
}

/**
 * The task types this process and the cluster's live workers can run, and
 * the payload schemas this process knows.
 */
export class TaskCatalog {
  readonly #options: TaskCatalogOptions;
  /** What this process records about itself (empty without a pool: it runs nothing). */
  readonly types: string[];
  readonly execCommands: string[];
  #cache: { at: number; value: Runnable } | null = null;

  constructor(options: TaskCatalogOptions) {
    this.#options = options;
    this.types = options.pool ? Object.keys(options.handlers).sort() : [];
    this.execCommands = options.pool ? [...options.execCommands].sort() : [];
  }

  /**
   * The payload schema of a type as this process knows it (built-ins and its
   * handlers module), if any.
   */
  schema(type: string): PayloadSchema | undefined {
    return payloadSchemaOf(this.#options.handlers, type);
  }

  /**
   * What the live workers can run. A `known` answer is reused for a second
   * unless `fresh` is set; a refusal should ask again with `fresh` (a worker
   * that just started must not be missed).
   */
  async runnable(fresh = false): Promise<Runnable> {
    const { store, now } = this.#options;
    const own: Runnable = this.#options.pool
      ? { kind: "known", types: new Set(this.types), execCommands: new Set(this.execCommands) }
      : { kind: "none" };
    if (store === null) return own;
    const cached = this.#cache;
    if (!fresh && cached && now() - cached.at < CACHE_MS) return cached.value;
    let value: Runnable;
    try {
      value = union(own, await store.listProcesses(now()));
    } catch {
      // The store is away: the create itself will say so; nothing to refuse here.
      return { kind: "unknown" };
    }
    this.#cache = { at: now(), value };
    return value;
  }
}

/** This process's answer joined with every live worker's record. */
function union(
  own: Runnable,
  records: Awaited<ReturnType<Store["listProcesses"]>>,
): Runnable {
  const workers = records.filter((record) => record.concurrency > 0);
  if (workers.length === 0) return own;
  if (workers.some((record) => !record.types || !record.execCommands)) return { kind: "unknown" };
  const types = new Set(own.kind === "known" ? own.types : []);
  const execCommands = new Set(own.kind === "known" ? own.execCommands : []);
  for (const record of workers) {
    record.types!.forEach((type) => types.add(type));
    record.execCommands!.forEach((name) => execCommands.add(name));
  }
  return { kind: "known", types, execCommands };
}
