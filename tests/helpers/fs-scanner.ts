/**
 * Test harness of the fs scanner: real files in a temp directory, a real
 * `Deno.watchFs`, a real SQLite store inside the tree (`.un/`, which the
 * scanner must ignore), and a tiny parent machine with `systemId:
 * "supervisor"` that routes like the supervisor does for a scanner and records
 * what it publishes.
 */

import { join } from "node:path";
import { type AnyActorRef, createActor, sendTo, setup } from "xstate";
import { fsScannerMachine } from "../../actors/fs-scanner.ts";
import { type ConfigInput, parseConfig } from "../../lib/config/load.ts";
import type { RuntimeDeps } from "../../lib/protocol/deps.ts";
import type { CloudEvent, Json } from "../../lib/events/cloud-event.ts";
import { silentLogger } from "../../lib/log.ts";
import { ask } from "../../lib/protocol/ask.ts";
import type { RuntimeMessage } from "../../lib/protocol/messages.ts";
import { type SourceStatus, STATUS_KEY } from "../../lib/sources/scanner.ts";
import type { ScanLease } from "../../lib/sources/lease.ts";
import { SqliteStore } from "../../lib/store/sqlite/store.ts";
import { eventually } from "./eventually.ts";

/**
 * Keys of the test's fs source (`id` "tree" and `path` are set by {@link withTree}).
 *
 * @example
 * ```ts
 * const source: FsSourceInput = { exclude: ["*.tmp"] };
 * ```
 */
export type FsSourceInput = Partial<
  Extract<NonNullable<ConfigInput["sources"]>[number], { kind: "fs" }>
>;

interface ParentContext {
  deps: RuntimeDeps;
  lease: ScanLease | undefined;
  events: CloudEvent[];
  crashes: unknown[];
}

const parentMachine = setup({
  types: {
    input: {} as ParentContext,
    context: {} as ParentContext,
    events: {} as RuntimeMessage,
  },
  actors: { scanner: fsScannerMachine },
}).createMachine({
  context: ({ input }) => input,
  invoke: {
    id: "scanner",
    src: "scanner",
    input: ({ context }) => ({
      deps: context.deps,
      source: context.deps.config.sources[0],
      lease: context.lease,
    }),
    onError: { actions: ({ context, event }) => context.crashes.push(event.error) },
  },
  on: {
    "event.publish": { actions: ({ context, event }) => context.events.push(event.event) },
    "source.scan": { actions: sendTo("scanner", ({ event }) => event) },
    "debug.crash": { actions: sendTo("scanner", ({ event }) => event) },
  },
});

/**
 * A started scanner: its parent actor and what it published or crashed with.
 *
 * @example
 * ```ts
 * const run: Running = fx.start();
 * console.log(run.events.length, run.crashes.length);
 * ```
 */
export interface Running {
  actor: AnyActorRef;
  events: CloudEvent[];
  crashes: unknown[];
}

/**
 * What a test body gets from {@link withTree}.
 *
 * @example
 * ```ts
 * await withTree({}, async ({ root, start }) => { const run = start(); });
 * ```
 */
export interface Fixture {
  /** The watched tree. */
  root: string;
  store: SqliteStore;
  deps: RuntimeDeps;
  /** Starts a scanner on the tree; under `lease` as in a cluster when given. */
  start(lease?: ScanLease): Running;
}

/**
 * Runs `body` with a temp tree (holding `files`), a store inside it and cleanup.
 *
 * @example
 * ```ts
 * await withTree({ emitExisting: false }, async (fx) => { fx.start(); }, { "a.txt": "a" });
 * ```
 */
export async function withTree(
  source: FsSourceInput,
  body: (fx: Fixture) => Promise<void>,
  files: Record<string, string> = {},
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "un-fs-" });
  const storeDir = join(root, ".un");
  const store = SqliteStore.open(storeDir);
  const config = parseConfig({
    store: { path: storeDir },
    sources: [{ id: "tree", kind: "fs", path: root, debounceMs: 50, maxDelayMs: 500, ...source }],
  });
  const deps: RuntimeDeps = {
    config,
    store,
    log: silentLogger,
    handlers: {},
    faults: { crash: true, noRenew: false },
    now: Date.now,
  };
  for (const [path, text] of Object.entries(files)) await write(root, path, text);
  const actors: AnyActorRef[] = [];
  const start = (lease?: ScanLease): Running => {
    const events: CloudEvent[] = [];
    const crashes: unknown[] = [];
    const actor = createActor(parentMachine, {
      systemId: "supervisor",
      input: { deps, lease, events, crashes },
    });
    actors.push(actor);
    actor.start();
    return { actor, events, crashes };
  };
  try {
    await body({ root, store, deps, start });
  } finally {
    for (const actor of actors) actor.stop();
    await store.close();
    await Deno.remove(root, { recursive: true });
  }
}

/**
 * Writes a file of the tree, making its directories.
 *
 * @example
 * ```ts
 * await write(root, "docs/a.md", "# a");
 * ```
 */
export async function write(root: string, path: string, text: string): Promise<void> {
  const abs = join(root, path);
  await Deno.mkdir(join(abs, ".."), { recursive: true });
  await Deno.writeTextFile(abs, text);
}

/**
 * The source's saved status, or null.
 *
 * @example
 * ```ts
 * console.log((await status(store))?.lastScanAt);
 * ```
 */
export async function status(store: SqliteStore): Promise<SourceStatus | null> {
  return (await store.getSourceState("tree", STATUS_KEY)) as SourceStatus | null;
}

/**
 * Waits until a reconciliation after `since` has run (status lastScanAt set).
 *
 * @example
 * ```ts
 * await scanned(store);
 * ```
 */
export async function scanned(store: SqliteStore, since = 0): Promise<void> {
  await eventually(async () => ((await status(store))?.lastScanAt ?? 0) > since, {
    timeoutMs: 10_000,
    message: "a completed scan",
  });
}

/**
 * Waits long enough that a late duplicate (debounce 50 ms, max delay 500 ms) would have come.
 *
 * @example
 * ```ts
 * await quiet();
 * ```
 */
export const quiet = (): Promise<unknown> => new Promise((r) => setTimeout(r, 600));

/**
 * `type subject` of each event, sorted, for order-free comparison.
 *
 * @example
 * ```ts
 * assert.deepEqual(seen(run.events), ["file.created a.txt"]);
 * ```
 */
export const seen = (events: CloudEvent[]): string[] =>
  events.map((e) => `${e.type} ${e.subject}`).sort();

/**
 * An event's data as a record.
 *
 * @example
 * ```ts
 * data(run.events[0]).path;
 * ```
 */
export const data = (e: CloudEvent): Record<string, Json> => e.data as Record<string, Json>;

/**
 * Asks the scanner to reconcile now; resolves with the number of changes.
 *
 * @example
 * ```ts
 * assert.deepEqual(await scan(run), { changes: 0 });
 * ```
 */
export const scan = (run: Running): Promise<{ changes: number }> =>
  ask(run.actor, "source.scan", { request: { sourceId: "tree", requestedBy: "test" } });
